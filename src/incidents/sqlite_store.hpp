// SQLite implementation of IncidentStore: one database file (normally
// <data_dir>/incidents.db) in WAL mode, so the console can read while
// prevent/monitor write, and several processes can share it safely.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "incidents/detail/sqlite_handle.hpp"
#include "incidents/store.hpp"

namespace cordon::incidents {

class SqliteIncidentStore final : public IncidentStore {
 public:
  // Opens (creating if needed) the database and brings its schema to the
  // current version. A database written by a newer cordon is refused.
  static StoreResult<std::unique_ptr<SqliteIncidentStore>> open(
      const std::string& path,
      std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(5000));

  static constexpr int kSchemaVersion = 4;

  StoreResult<RecordOutcome> record(const NewIncident& incident) override;
  StoreResult<Incident> get(IncidentId id) override;
  StoreResult<std::vector<Incident>> list(const IncidentQuery& query) override;
  StoreResult<std::int64_t> count(const IncidentQuery& query) override;
  Status<StoreError> update_status(IncidentId id, IncidentStatus status, const std::string& comment,
                                   Clock::time_point time) override;
  StoreResult<IncidentStats> stats(std::optional<Clock::time_point> from,
                                   std::optional<Clock::time_point> until,
                                   std::size_t top) override;
  Status<StoreError> change(IncidentId id, const IncidentChange& change) override;
  StoreResult<std::vector<ConsoleUser>> users() override;
  StoreResult<bool> put_user(const ConsoleUser& user, bool replace) override;
  Status<StoreError> delete_user(const std::string& name) override;
  Status<StoreError> put_session(const ConsoleSession& session) override;
  StoreResult<std::optional<ConsoleSession>> find_session(const std::string& token_hash,
                                                          Clock::time_point now) override;
  Status<StoreError> delete_session(const std::string& token_hash) override;
  StoreResult<std::vector<SavedFilter>> saved_filters(const std::string& user) override;
  Status<StoreError> put_saved_filter(const std::string& user, const SavedFilter& filter) override;
  Status<StoreError> delete_saved_filter(const std::string& user, const std::string& name) override;
  StoreResult<std::string> change_token() override;
  StoreResult<std::int64_t> purge(Clock::time_point cutoff) override;

  // Only open() can build one (the key is private): a store always has a
  // migrated schema.
  class ConstructionKey {
    friend class SqliteIncidentStore;
    ConstructionKey() = default;
  };
  SqliteIncidentStore(ConstructionKey, sqlite3* db) : db_(db) {}

 private:
  Status<StoreError> migrate();

  // One connection, used by one thread at a time: a transaction must not
  // interleave with another thread's statements on the same connection.
  std::mutex mutex_;
  std::unique_ptr<sqlite3, sqlite::CloseDb> db_;
};

}  // namespace cordon::incidents
