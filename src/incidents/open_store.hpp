// Opens the incident store the `incidents:` setting names: "sqlite" (the
// default, <data_dir>/incidents.db) or a postgresql:// (postgres://) URL
// shared by several nodes. Roles and the CLI call this, never a backend.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "incidents/store.hpp"

namespace cordon::incidents {

bool is_postgres_url(std::string_view spec);

// Where the SQLite file of a data directory lives.
std::filesystem::path sqlite_path(const std::filesystem::path& data_dir);

struct OpenOptions {
  // false: a PostgreSQL store opens even while the database is unreachable
  // (a mail-path node keeps working with its outbox); SQLite ignores it.
  bool require_connection = true;
};

StoreResult<std::unique_ptr<IncidentStore>> open_store(std::string_view spec,
                                                       const std::filesystem::path& data_dir,
                                                       OpenOptions options = {});

// nullopt when `spec` is a store cordon can open; otherwise why not (for
// check-config). Does not connect.
std::optional<std::string> check_store_spec(std::string_view spec);

}  // namespace cordon::incidents
