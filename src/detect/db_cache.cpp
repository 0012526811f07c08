// Serialised Vectorscan databases on disk, so a restart or reload with an
// unchanged policy set skips the (seconds-long, for big sets) compile.
#include "detect/detail/db_cache.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "util/sha256.hpp"

namespace cordon::detect::cache {
namespace {

struct MallocDeleter {
  void operator()(char* p) const { std::free(p); }
};

// Bumped when the way rules become expressions changes meaning without
// changing the expressions themselves.
constexpr char kFormat[] = "cordon-detect-db-v2";

}  // namespace

std::string key(const std::vector<const char*>& expressions, const std::vector<unsigned>& flags,
                const std::vector<unsigned>& ids) {
  util::Sha256 hash;
  auto feed = [&](const void* data, std::size_t n) {
    hash.update(std::string_view(static_cast<const char*>(data), n));
  };
  feed(kFormat, sizeof kFormat);
  const char* version = hs_version();
  feed(version, std::char_traits<char>::length(version) + 1);
  hs_platform_info_t platform{};
  if (hs_populate_platform(&platform) == HS_SUCCESS) {
    feed(&platform.tune, sizeof platform.tune);
    feed(&platform.cpu_features, sizeof platform.cpu_features);
  }
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    feed(&flags[i], sizeof flags[i]);
    feed(&ids[i], sizeof ids[i]);
    feed(expressions[i], std::char_traits<char>::length(expressions[i]) + 1);
  }
  return hash.hex_digest();
}

HsDatabasePtr load(const std::filesystem::path& file) {
  // One sized read: a start-up with cached policies is mostly this load.
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) return nullptr;
  const std::streamoff size = in.tellg();
  if (size <= 0) return nullptr;
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) return nullptr;
  hs_database_t* db = nullptr;
  // Vectorscan checks the header, version and platform of what it loads.
  if (hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) return nullptr;
  return HsDatabasePtr(db);
}

bool store(const std::filesystem::path& file, const hs_database_t& db) {
  char* raw = nullptr;
  std::size_t length = 0;
  if (hs_serialize_database(&db, &raw, &length) != HS_SUCCESS) return false;
  const std::unique_ptr<char, MallocDeleter> bytes(raw);
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Unique per process so concurrent writers never interleave in one file.
  const auto temporary = file.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out.write(bytes.get(), static_cast<std::streamsize>(length)) || !out.flush()) {
      std::filesystem::remove(temporary, ec);
      return false;
    }
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) std::filesystem::remove(temporary, ec);
  return !ec;
}

}  // namespace cordon::detect::cache
