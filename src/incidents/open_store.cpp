// Chooses the incident backend from the `incidents:` setting; see open_store.hpp.
#include "incidents/open_store.hpp"

#include "incidents/detail/pg_handle.hpp"
#include "incidents/outbox_store.hpp"
#include "incidents/postgres_store.hpp"
#include "incidents/sqlite_store.hpp"

namespace cordon::incidents {

bool is_postgres_url(std::string_view spec) {
  return spec.starts_with("postgresql://") || spec.starts_with("postgres://");
}

std::filesystem::path sqlite_path(const std::filesystem::path& data_dir) {
  return data_dir / "incidents.db";
}

StoreResult<std::unique_ptr<IncidentStore>> open_store(std::string_view spec,
                                                       const std::filesystem::path& data_dir,
                                                       OpenOptions options) {
  if (is_postgres_url(spec)) {
    PostgresOptions pg_options;
    pg_options.require_connection = options.require_connection;
    auto store = PostgresIncidentStore::open(std::string(spec), pg_options);
    if (!store) return fail(store.error());
    return std::unique_ptr<IncidentStore>(std::move(store).value());
  }
  if (spec != "sqlite")
    return fail(StoreError{StoreErrorCode::open_failed,
                           "unknown incident store '" + std::string(spec) + "'"});
  const std::string path = sqlite_path(data_dir).string();
  auto store = SqliteIncidentStore::open(path);
  if (!store) return fail(StoreError{store.error().code, path + ": " + store.error().message});
  return std::unique_ptr<IncidentStore>(std::move(store).value());
}

StoreResult<std::shared_ptr<IncidentStore>> open_mail_path_store(
    std::string_view spec, const std::filesystem::path& data_dir, util::Metrics& metrics) {
  auto store = open_store(spec, data_dir, {.require_connection = false});
  if (!store) return fail(store.error());
  return std::shared_ptr<IncidentStore>(std::make_shared<OutboxIncidentStore>(
      std::move(store).value(), data_dir / "incident-outbox", register_outbox_metrics(metrics)));
}

std::optional<std::string> check_store_spec(std::string_view spec) {
  if (spec == "sqlite") return std::nullopt;
  if (!is_postgres_url(spec)) return "incidents must be sqlite or a postgresql:// URL";
  if (auto bad = pg::check_url(std::string(spec))) return "invalid PostgreSQL URL: " + *bad;
  return std::nullopt;
}

}  // namespace cordon::incidents
