// PostgreSQL implementation of IncidentStore: the one database several
// cordon nodes (prevent, monitor, console) share. The same message seen by
// two nodes is one incident: the content hash and the set of policy names
// form a UNIQUE key, and record() is a single INSERT ... ON CONFLICT DO
// UPDATE that bumps repeat_count and last_seen and returns the id.
//
// Calls are synchronous and bounded: a connect timeout, a statement timeout
// and a lock timeout (5 s by default), so a slow or vanished database fails
// a call instead of holding the caller; put an OutboxIncidentStore in front
// of it to keep incidents the database cannot take. After a failed connect
// the store answers at once with an error for `retry_after`, so a node whose
// database is down does not wait on it for every message.
//
// Writes are group-committed: record() calls that arrive while another
// thread's write is in flight are queued and written together, in one
// transaction and so one fsync, by the next thread to lead. A batch is
// written in the order of its deduplication keys, so the batches of two
// nodes take row locks in one order and cannot deadlock; a batch that
// fails is retried one record at a time, so one bad record fails alone.
//
// Schema migrations run on the first connection, inside a transaction and
// under pg_advisory_xact_lock, so nodes starting together migrate once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "incidents/detail/pg_handle.hpp"
#include "incidents/store.hpp"

namespace cordon::incidents {

struct PostgresOptions {
  std::chrono::seconds connect_timeout{3};
  std::chrono::milliseconds statement_timeout{5000};
  // After a failed connect, calls fail at once for this long.
  std::chrono::milliseconds retry_after{1000};
  // Connections kept open; callers beyond this many wait for one.
  std::size_t max_connections = 4;
  // false: open() succeeds while the database is unreachable, and the
  // schema is migrated on the first connection that works (a node must
  // start and keep inspecting when the database is down).
  bool require_connection = true;
};

class PostgresIncidentStore final : public IncidentStore {
 public:
  // `url`: postgresql://user[:password]@host[:port]/db[?sslmode=...] or a
  // libpq key=value string.
  static StoreResult<std::unique_ptr<PostgresIncidentStore>> open(const std::string& url,
                                                                  PostgresOptions options = {});

  static constexpr int kSchemaVersion = 4;
  // The key of the advisory lock held while migrating.
  static constexpr std::int64_t kMigrationLock = 0x636f72646f6e01;  // "cordon" 1

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
  // LISTEN on a connection of its own; returns at once after (re)connecting,
  // so the caller's next change_token() catches up on what it missed.
  void wait_for_change(std::chrono::milliseconds timeout) override;
  StoreResult<std::int64_t> purge(Clock::time_point cutoff) override;

  class ConstructionKey {
    friend class PostgresIncidentStore;
    ConstructionKey() = default;
  };
  PostgresIncidentStore(ConstructionKey, std::string url, PostgresOptions options)
      : url_(std::move(url)), options_(options) {}

 private:
  // A pooled connection, given back (or closed if broken) on destruction.
  class Lease {
   public:
    Lease(PostgresIncidentStore* store, pg::Conn conn) : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PGconn* get() const { return conn_.get(); }

   private:
    PostgresIncidentStore* store_;
    pg::Conn conn_;
  };

  StoreResult<Lease> acquire();

  struct PendingRecord;
  static constexpr std::size_t kMaxBatch = 64;
  void write_batch(std::vector<PendingRecord*>& batch);
  void release(pg::Conn conn);
  Status<StoreError> migrate(PGconn* conn);

  std::string url_;
  PostgresOptions options_;
  std::mutex batch_mutex_;
  std::condition_variable batch_cv_;
  std::vector<PendingRecord*> queued_;  // oldest first
  bool leading_ = false;                // a thread is writing a batch
  std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::vector<pg::Conn> idle_;
  std::size_t open_ = 0;  // leased + idle
  std::chrono::steady_clock::time_point retry_at_{};
  std::atomic<bool> migrated_{false};
  std::mutex listen_mutex_;
  pg::Conn listener_;  // LISTEN cordon_incidents; null until the first wait
  std::mutex migrate_mutex_;
};

}  // namespace cordon::incidents
