// Lookup of the embedded web UI files; see detail/assets.hpp.
#include "console/detail/assets.hpp"

namespace cordon::console {

const Asset* find_asset(std::string_view request_path) {
  if (request_path.empty() || request_path == "/") request_path = "/index.html";
  if (request_path.front() != '/') return nullptr;
  request_path.remove_prefix(1);
  for (const auto& asset : embedded_assets())
    if (asset.path == request_path) return &asset;
  return nullptr;
}

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json") return "application/json";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace cordon::console
