// The console's web UI, embedded into the binary at build time (from web/
// by embed.cmake), so `cordon run` serves it from any directory.
#pragma once

#include <span>
#include <string_view>

namespace cordon::console {

struct Asset {
  std::string_view path;  // relative to web/, e.g. "index.html", "js/app.js"
  std::string_view body;
};

// Every embedded file; defined in the generated assets_data.cpp.
std::span<const Asset> embedded_assets();

// The asset for a request path ("/" is index.html); null when none.
const Asset* find_asset(std::string_view request_path);

// The Content-Type for a file name, by extension.
std::string_view content_type_for(std::string_view path);

}  // namespace cordon::console
