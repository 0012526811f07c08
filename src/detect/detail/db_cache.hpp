// On-disk cache of compiled Vectorscan databases, keyed by everything that
// determines the compiled bytes. Internal to src/detect.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "detect/database.hpp"

namespace cordon::detect::cache {

// Hex SHA-256 over the expressions, flags, ids (in order), the Vectorscan
// version and the host platform Vectorscan compiles for.
std::string key(const std::vector<const char*>& expressions, const std::vector<unsigned>& flags,
                const std::vector<unsigned>& ids);

// The database stored in `file`, or null when it is missing or unusable.
HsDatabasePtr load(const std::filesystem::path& file);

// Writes atomically (temporary file + rename); false when it cannot.
bool store(const std::filesystem::path& file, const hs_database_t& db);

}  // namespace cordon::detect::cache
