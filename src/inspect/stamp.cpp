// The X-Cordon-Inspected stamp, its HMAC, the content hash and the
// deployment's id and key on disk (see stamp.hpp).
#include "inspect/stamp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "mime/header_edit.hpp"
#include "util/ascii.hpp"
#include "util/fs.hpp"
#include "util/random.hpp"
#include "util/sha256.hpp"

namespace cordon::inspect {
namespace {

namespace fs = std::filesystem;

// What MTAs on the way add, and every X-Cordon-* field: cordon's own trace
// (the gateway's X-Cordon-Queue-Id, which is new on each submission, the
// X-Cordon-DLP bypass notice, the X-Cordon-Inspected stamp).
bool is_trace_header(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kTrace = {"Received", "Return-Path",
                                                             "Delivered-To", "X-Original-To"};
  return util::istarts_with(name, kOwnHeaderPrefix) ||
         std::any_of(kTrace.begin(), kTrace.end(),
                     [&](std::string_view t) { return util::iequals(name, t); });
}

// 128 bits of HMAC-SHA256: plenty against forgery, short in a header.
std::string mac(std::string_view key, std::string_view content_hash) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(content_hash.data()), content_hash.size(),
            out.data(), &length))
    return {};
  return util::to_hex(out.data(), std::min<std::size_t>(length, 16));
}

// The first white-space separated word of `file`.
Result<std::string, std::string> read_word(const fs::path& file) {
  auto text = util::read_file(file);
  if (!text) return fail("cannot read " + file.string() + ": " + text.error().message);
  static constexpr std::string_view kSpace = " \t\r\n";
  std::string_view word = *text;
  word.remove_prefix(std::min(word.size(), word.find_first_not_of(kSpace)));
  word = word.substr(0, word.find_first_of(kSpace));
  if (word.empty()) return fail("cannot read " + file.string() + ": it is empty");
  return std::string(word);
}

// Reads <data_dir>/<name>, creating it with `bytes` random bytes (hex) when
// it does not exist yet.
Result<std::string, std::string> load_or_create_secret(const std::string& data_dir,
                                                       const std::string& name, std::size_t bytes) {
  const fs::path file = fs::path(data_dir) / name;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    // Anybody who can read the key can forge stamps: owner-only, tightened
    // with a warning when it was not.
    if (auto notice = util::make_private(file); notice && !notice->empty())
      spdlog::warn("deployment: {}", *notice);
    return read_word(file);
  }
  fs::create_directories(data_dir, ec);
  if (ec) return fail("cannot create " + data_dir + ": " + ec.message());
  // Written aside (mode 0600 from the start, fsynced) and linked into place:
  // link() fails when another process got there first, and then its value
  // is the one everybody uses.
  const fs::path staging = fs::path(data_dir) / (name + "." + util::random_hex(8) + ".tmp");
  if (auto written = util::create_file_durably(staging, util::random_hex(bytes) + "\n", 0600);
      !written)
    return fail(written.error().message);
  if (::link(staging.c_str(), file.c_str()) != 0 && errno != EEXIST) {
    std::string why = std::strerror(errno);
    fs::remove(staging, ec);
    return fail("cannot create " + file.string() + ": " + why);
  }
  fs::remove(staging, ec);
  return read_word(file);
}

}  // namespace

Result<Deployment, std::string> load_or_create_deployment(const std::string& data_dir) {
  auto id = load_or_create_secret(data_dir, "deployment-id", 16);
  if (!id) return fail(id.error());
  auto key = load_or_create_secret(data_dir, "deployment-key", 32);
  if (!key) return fail(key.error());
  return Deployment{std::move(id).value(), std::move(key).value()};
}

StampCheck check_stamp(std::string_view message, const Deployment& deployment) {
  std::string expected;
  StampCheck found = StampCheck::missing;
  for (const auto& field : mime::split_raw_headers(message).fields) {
    if (!util::iequals(field.name, kInspectedHeader)) continue;
    if (found == StampCheck::missing) found = StampCheck::other_deployment;
    std::string_view value = field.value;
    auto start = value.find_first_not_of(" \t");
    if (start == std::string_view::npos) continue;
    value.remove_prefix(start);
    const std::string_view id = deployment.id;
    if (value.size() <= id.size() || value.substr(0, id.size()) != id || value[id.size()] != ';')
      continue;
    found = StampCheck::invalid;
    auto at = value.find("; mac=");
    if (at == std::string_view::npos) continue;
    std::string_view given = value.substr(at + 6);
    given = given.substr(0, given.find_first_of("; \t\r\n"));
    if (expected.empty()) expected = mac(deployment.key, content_hash(message));
    // An empty expected mac (HMAC failed) matches nothing: fail closed.
    if (!expected.empty() && given.size() == expected.size() &&
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0)
      return StampCheck::valid;
  }
  return found;
}

bool inspected_by(std::string_view message, const Deployment& deployment) {
  return check_stamp(message, deployment) == StampCheck::valid;
}

std::string_view to_string(StampCheck check) {
  switch (check) {
    case StampCheck::valid:
      return "valid";
    case StampCheck::missing:
      return "missing";
    case StampCheck::other_deployment:
      return "other_deployment";
    case StampCheck::invalid:
      return "invalid";
  }
  return "invalid";
}

std::string content_hash(std::string_view message) {
  util::Sha256 hash;
  // Everything but the trace fields, in order.
  std::size_t from = 0;
  for (const auto& field : mime::split_raw_headers(message).fields) {
    if (!is_trace_header(field.name)) continue;
    hash.update(message.substr(from, field.begin - from));
    from = field.end;
  }
  hash.update(message.substr(from));
  return hash.hex_digest();
}

std::string stamp(std::string_view message, const Deployment& deployment, std::string_view verdict,
                  std::optional<std::int64_t> incident) {
  std::string header =
      std::string(kInspectedHeader) + ": " + deployment.id + "; " + std::string(verdict);
  if (incident) header += "; incident=" + std::to_string(*incident);
  header += "; mac=" + mac(deployment.key, content_hash(message));
  return mime::edit_headers(message, {{header}, {}});
}

}  // namespace cordon::inspect
