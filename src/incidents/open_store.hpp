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
#include "util/metrics.hpp"

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

// The store of the mail-path roles (prevent, milter, monitor): the one
// open_store opens, where a shared PostgreSQL opens even while it is
// unreachable, behind the durable outbox <data_dir>/incident-outbox, so an
// incident the database cannot take waits there and is never lost. Open it
// once per process: the roles of one `cordon run` share it, and so one
// outbox drained once.
StoreResult<std::shared_ptr<IncidentStore>> open_mail_path_store(
    std::string_view spec, const std::filesystem::path& data_dir, util::Metrics& metrics);

// nullopt when `spec` is a store cordon can open; otherwise why not (for
// check-config). Does not connect.
std::optional<std::string> check_store_spec(std::string_view spec);

}  // namespace cordon::incidents
