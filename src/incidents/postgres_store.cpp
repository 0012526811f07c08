// PostgreSQL incident store; see postgres_store.hpp and store.hpp for the
// contract.
//
// Layout (as the SQLite backend, in PostgreSQL types): `incidents` holds one
// row per incident, with `dedup_key` (content hash + policy set, NULL when
// there is no hash) UNIQUE; `incident_policies` lists the policy names per
// incident; `status_history` keeps every status change; `schema_version`
// lists the migrations applied. Times are Unix seconds (UTC), as in SQLite.
// Version 2 adds incident owners, who made each history entry, and the
// console's users, sessions (token hashes) and saved filters; change()
// sends NOTIFY cordon_incidents in its transaction, which every console's
// wait_for_change() listens for.
#include "incidents/postgres_store.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <thread>
#include <variant>

#include "incidents/detail/rows.hpp"

namespace cordon::incidents {
namespace {

using rows::Where;

struct Migration {
  int version;
  std::string_view sql;
};

// Append-only: a released migration is never edited, a change is a new one.
constexpr std::array<Migration, 4> kMigrations = {{
    {1, R"sql(
CREATE TABLE incidents (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused
  first_seen        BIGINT NOT NULL,
  last_seen         BIGINT NOT NULL,
  sender            TEXT NOT NULL,
  recipients        TEXT NOT NULL,
  recipients_search TEXT NOT NULL,
  subject           TEXT NOT NULL,
  message_id        TEXT NOT NULL,
  content_hash      TEXT NOT NULL,
  policy_key        TEXT NOT NULL,
  dedup_key         TEXT UNIQUE,          -- content_hash LF policy_key; NULL: never de-duplicated
  policies          TEXT NOT NULL,
  max_severity      INTEGER NOT NULL,
  action            TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'new',
  repeat_count      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX incidents_first_seen ON incidents(first_seen);
CREATE INDEX incidents_status ON incidents(status);
CREATE INDEX incidents_sender ON incidents(lower(sender));
CREATE TABLE incident_policies (
  incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  severity    INTEGER NOT NULL,
  PRIMARY KEY (incident_id, name)
);
CREATE INDEX incident_policies_name ON incident_policies(name);
CREATE TABLE status_history (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  time        BIGINT NOT NULL,
  status      TEXT NOT NULL,
  comment     TEXT NOT NULL
);
CREATE INDEX status_history_incident ON status_history(incident_id);
)sql"},
    // The SMTP client of the message (see NewIncident).
    {2, R"sql(
ALTER TABLE incidents ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN client_helo TEXT NOT NULL DEFAULT '';
)sql"},
    // Console users, sessions, owners and who made each change.
    {3, R"sql(
ALTER TABLE incidents ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_assignee ON incidents(assignee);
ALTER TABLE status_history ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE status_history ADD COLUMN assignee TEXT;
CREATE TABLE console_users (
  name          TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL
);
CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY,
  user_name  TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  expires    BIGINT NOT NULL
);
CREATE TABLE saved_filters (
  user_name TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
  name      TEXT NOT NULL,
  query     TEXT NOT NULL,
  PRIMARY KEY (user_name, name)
);
)sql"},
    // last_seen indexed, for the retention purge and the change token.
    {4, R"sql(
CREATE INDEX incidents_last_seen ON incidents(last_seen);
)sql"},
}};

constexpr const char* kChannel = "cordon_incidents";

// One statement, so one round trip and its own transaction: the insert or
// the bump, and for a new incident its policy rows.
constexpr std::string_view kRecord = R"sql(
WITH ins AS (
  INSERT INTO incidents (first_seen, last_seen, sender, recipients, recipients_search, subject,
                         message_id, content_hash, policy_key, dedup_key, policies, max_severity,
                         action, client_address, client_helo)
  VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15)
  ON CONFLICT (dedup_key) DO UPDATE
    SET repeat_count = incidents.repeat_count + 1,
        last_seen = GREATEST(incidents.last_seen, EXCLUDED.last_seen)
  RETURNING id, repeat_count
), pol AS (
  INSERT INTO incident_policies (incident_id, name, severity)
  SELECT ins.id, p.name, MAX(p.severity)
    FROM ins CROSS JOIN jsonb_to_recordset($13::jsonb) AS p(name TEXT, severity INTEGER)
   WHERE ins.repeat_count = 0
   GROUP BY ins.id, p.name
)
SELECT id, repeat_count FROM ins
)sql";

pg::Params params_of(const Where& where) {
  pg::Params p;
  for (const auto& v : where.params) {
    if (std::holds_alternative<std::int64_t>(v))
      p.add(std::get<std::int64_t>(v));
    else
      p.add(std::string_view(std::get<std::string>(v)));
  }
  return p;
}

StoreResult<Incident> read_row(const pg::Rows& r, int i) {
  return rows::to_incident({r.integer(i, 0), r.integer(i, 1), r.integer(i, 2), r.text(i, 3),
                            r.text(i, 4), r.text(i, 5), r.text(i, 6), r.text(i, 7), r.text(i, 8),
                            r.text(i, 9), r.text(i, 10), r.integer(i, 11), r.text(i, 12),
                            r.text(i, 13), r.text(i, 14)});
}

StoreResult<std::vector<Count>> counts(PGconn* conn, const std::string& sql, const Where& where,
                                       std::optional<std::int64_t> limit) {
  auto params = params_of(where);
  if (limit) params.add(*limit);
  auto r = pg::exec(conn, pg::numbered(sql), params);
  if (!r) return fail(r.error());
  std::vector<Count> out;
  for (int i = 0; i < r->size(); ++i) out.push_back({r->text(i, 0), r->integer(i, 1)});
  return out;
}

}  // namespace

StoreResult<std::unique_ptr<PostgresIncidentStore>> PostgresIncidentStore::open(
    const std::string& url, PostgresOptions options) {
  if (auto bad = pg::check_url(url))
    return fail(StoreError{StoreErrorCode::open_failed, "postgresql: " + *bad});
  options.max_connections = std::max<std::size_t>(options.max_connections, 1);
  auto store = std::make_unique<PostgresIncidentStore>(ConstructionKey{}, url, options);
  auto first = store->acquire();
  if (!first) {
    if (first.error().code == StoreErrorCode::schema || options.require_connection)
      return fail(first.error());
    spdlog::warn(
        "incidents: the PostgreSQL database is unreachable ({}); incidents wait in the outbox "
        "until it answers",
        first.error().message);
  }
  return store;
}

PostgresIncidentStore::Lease::~Lease() {
  if (store_ && conn_) store_->release(std::move(conn_));
}

void PostgresIncidentStore::release(pg::Conn conn) {
  const bool healthy =
      PQstatus(conn.get()) == CONNECTION_OK && PQtransactionStatus(conn.get()) == PQTRANS_IDLE;
  {
    std::lock_guard lock(mutex_);
    if (healthy)
      idle_.push_back(std::move(conn));
    else
      --open_;
  }
  idle_cv_.notify_one();
}

StoreResult<PostgresIncidentStore::Lease> PostgresIncidentStore::acquire() {
  {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    while (!idle_.empty()) {
      pg::Conn conn = std::move(idle_.back());
      idle_.pop_back();
      // A server restart closes idle connections; reading what arrived
      // (without blocking) notices that before a statement is lost on one.
      if (PQconsumeInput(conn.get()) == 1 && PQstatus(conn.get()) == CONNECTION_OK)
        return Lease(this, std::move(conn));
      --open_;
    }
    if (std::chrono::steady_clock::now() < retry_at_)
      return fail(
          StoreError{StoreErrorCode::io, "postgresql: the database was unreachable moments ago"});
    ++open_;
  }
  pg::ConnectOptions co;
  co.connect_timeout_s =
      static_cast<int>(std::max<std::int64_t>(options_.connect_timeout.count(), 1));
  co.statement_timeout_ms = static_cast<int>(options_.statement_timeout.count());
  auto conn = pg::connect(url_, co);
  if (conn && !migrated_.load()) {
    if (auto ok = migrate(conn->get()); !ok) conn = fail(ok.error());
  }
  if (!conn) {
    {
      std::lock_guard lock(mutex_);
      --open_;
      retry_at_ = std::chrono::steady_clock::now() + options_.retry_after;
    }
    idle_cv_.notify_one();
    return fail(conn.error());
  }
  return Lease(this, std::move(conn).value());
}

Status<StoreError> PostgresIncidentStore::migrate(PGconn* conn) {
  std::lock_guard guard(migrate_mutex_);
  if (migrated_.load()) return Ok{};
  auto schema_error = [](const StoreError& e) {
    return StoreError{e.code == StoreErrorCode::busy ? e.code : StoreErrorCode::schema,
                      "migration: " + e.message};
  };
  // The transaction-scoped advisory lock serialises nodes starting at the
  // same time; the second one finds the schema current and changes nothing.
  if (auto ok = pg::exec_script(conn, "BEGIN"); !ok) return ok;
  auto run = [&]() -> Status<StoreError> {
    auto locked =
        pg::exec(conn, "SELECT pg_advisory_xact_lock($1)", pg::Params().add(kMigrationLock));
    if (!locked) return fail(locked.error());
    // Created only when missing: a user without CREATE (the console's)
    // can open a database another node migrated.
    auto exists = pg::exec(conn, "SELECT to_regclass('schema_version') IS NOT NULL");
    if (!exists) return fail(exists.error());
    if (exists->text(0, 0) != "t") {
      if (auto ok = pg::exec_script(conn,
                                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                                    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
          !ok)
        return ok;
    }
    auto current = pg::exec(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!current) return fail(current.error());
    const std::int64_t version = current->integer(0, 0);
    if (version > kSchemaVersion)
      return fail(StoreError{StoreErrorCode::schema, "incident database has schema version " +
                                                         std::to_string(version) +
                                                         ", newer than this cordon (" +
                                                         std::to_string(kSchemaVersion) + ")"});
    for (const auto& m : kMigrations) {
      if (m.version <= version) continue;
      if (auto ok = pg::exec_script(conn, m.sql); !ok) return fail(schema_error(ok.error()));
      auto noted = pg::exec(conn, "INSERT INTO schema_version (version) VALUES ($1)",
                            pg::Params().add(std::int64_t{m.version}));
      if (!noted) return fail(noted.error());
    }
    return Ok{};
  };
  auto done = run();
  if (!done) {
    (void)pg::exec_script(conn, "ROLLBACK");
    return done;
  }
  if (auto ok = pg::exec_script(conn, "COMMIT"); !ok) return ok;
  migrated_.store(true);
  return Ok{};
}

struct PostgresIncidentStore::PendingRecord {
  pg::Params params;
  std::string order;  // the deduplication key: a batch takes row locks in its order
  std::optional<StoreResult<RecordOutcome>> result;
};

namespace {

pg::Params record_params(const NewIncident& in, std::string& dedup_key) {
  const rows::NewRow row = rows::to_new_row(in);
  pg::Params p;
  p.add(rows::to_seconds(in.time))
      .add(in.sender)
      .add(row.recipients)
      .add(row.recipients_search)
      .add(in.subject)
      .add(in.message_id)
      .add(in.content_hash)
      .add(row.policy_key);
  if (in.content_hash.empty()) {
    p.add_null();
  } else {
    dedup_key = in.content_hash + "\n" + row.policy_key;
    p.add(dedup_key);
  }
  p.add(row.policies).add(row.max_severity).add(to_string(in.action));
  nlohmann::json names = nlohmann::json::array();
  for (const auto& hit : in.policies)
    names.push_back({{"name", hit.name}, {"severity", static_cast<int>(hit.severity)}});
  p.add(rows::dump(names));
  p.add(in.client_address).add(in.client_helo);
  return p;
}

StoreResult<RecordOutcome> write_one(PGconn* conn, const pg::Params& params) {
  auto r = pg::exec(conn, kRecord, params);
  if (!r) return fail(r.error());
  if (r->size() != 1) return fail(rows::corrupt("record returned no row"));
  const std::int64_t repeats = r->integer(0, 1);
  return RecordOutcome{r->integer(0, 0), repeats > 0, repeats, {}};
}

}  // namespace

StoreResult<RecordOutcome> PostgresIncidentStore::record(const NewIncident& in) {
  PendingRecord mine;
  mine.params = record_params(in, mine.order);
  std::unique_lock lock(batch_mutex_);
  queued_.push_back(&mine);
  while (!mine.result && leading_) batch_cv_.wait(lock);
  if (mine.result) return std::move(*mine.result);
  // Lead: write what is queued, this record among it, and whatever queued
  // up meanwhile, until this record is written.
  leading_ = true;
  while (!mine.result) {
    const auto n = std::min(queued_.size(), kMaxBatch);
    std::vector<PendingRecord*> batch(queued_.begin(), queued_.begin() + n);
    queued_.erase(queued_.begin(), queued_.begin() + n);
    lock.unlock();
    write_batch(batch);
    lock.lock();
    batch_cv_.notify_all();
  }
  leading_ = false;
  // A waiter whose record is still queued leads next.
  batch_cv_.notify_all();
  return std::move(*mine.result);
}

void PostgresIncidentStore::write_batch(std::vector<PendingRecord*>& batch) {
  auto lease = acquire();
  if (!lease) {
    for (auto* p : batch) p->result = fail(lease.error());
    return;
  }
  PGconn* conn = lease->get();
  if (batch.size() > 1) {
    std::stable_sort(
        batch.begin(), batch.end(),
        [](const PendingRecord* a, const PendingRecord* b) { return a->order < b->order; });
    std::vector<StoreResult<RecordOutcome>> written;
    written.reserve(batch.size());
    bool ok = static_cast<bool>(pg::exec_script(conn, "BEGIN"));
    for (std::size_t i = 0; ok && i < batch.size(); ++i) {
      written.push_back(write_one(conn, batch[i]->params));
      ok = static_cast<bool>(written.back());
    }
    if (ok) ok = static_cast<bool>(pg::exec_script(conn, "COMMIT"));
    if (ok) {
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(written[i]);
      return;
    }
    // Nothing of the batch was committed: each record on its own, so that
    // only one that fails by itself reports a failure.
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) (void)pg::exec_script(conn, "ROLLBACK");
  }
  for (auto* p : batch) p->result = write_one(conn, p->params);
}

StoreResult<Incident> PostgresIncidentStore::get(IncidentId id) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(),
                    "SELECT " + std::string(rows::kColumns) + " FROM incidents WHERE id = $1",
                    pg::Params().add(id));
  if (!r) return fail(r.error());
  if (r->size() == 0)
    return fail(StoreError{StoreErrorCode::not_found, "no incident " + std::to_string(id)});
  auto incident = read_row(r.value(), 0);
  if (!incident) return incident;
  auto h = pg::exec(lease->get(),
                    "SELECT time, status, comment, changed_by, assignee FROM status_history "
                    "WHERE incident_id = $1 ORDER BY id",
                    pg::Params().add(id));
  if (!h) return fail(h.error());
  for (int i = 0; i < h->size(); ++i) {
    auto status = parse_status(h->text(i, 1));
    if (!status) return fail(rows::corrupt("unknown stored status"));
    std::optional<std::string> assignee;
    if (!h->is_null(i, 4)) assignee = h->text(i, 4);
    incident->history.push_back({rows::from_seconds(h->integer(i, 0)), *status, h->text(i, 2),
                                 h->text(i, 3), std::move(assignee)});
  }
  return incident;
}

StoreResult<std::vector<Incident>> PostgresIncidentStore::list(const IncidentQuery& query) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  const Where where = rows::filters(query, rows::kPostgres);
  const std::string order = query.descending ? " DESC" : " ASC";
  std::string sql = "SELECT " + std::string(rows::kColumns) + " FROM incidents" + where.sql +
                    " ORDER BY " + std::string(rows::sort_column(query.sort)) + order + ", id" +
                    order + " LIMIT ? OFFSET ?";
  auto params = params_of(where);
  if (query.limit == 0)
    params.add_null();  // LIMIT NULL: no limit
  else
    params.add(static_cast<std::int64_t>(query.limit));
  params.add(static_cast<std::int64_t>(query.offset));
  auto r = pg::exec(lease->get(), pg::numbered(sql), params);
  if (!r) return fail(r.error());
  std::vector<Incident> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    auto incident = read_row(r.value(), i);
    if (!incident) return fail(incident.error());
    out.push_back(std::move(incident).value());
  }
  return out;
}

StoreResult<std::int64_t> PostgresIncidentStore::count(const IncidentQuery& query) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  const Where where = rows::filters(query, rows::kPostgres);
  auto r = pg::exec(lease->get(), pg::numbered("SELECT COUNT(*) FROM incidents" + where.sql),
                    params_of(where));
  if (!r) return fail(r.error());
  return r->integer(0, 0);
}

Status<StoreError> PostgresIncidentStore::update_status(IncidentId id, IncidentStatus status,
                                                        const std::string& comment,
                                                        Clock::time_point time) {
  return change(id, IncidentChange{status, std::nullopt, comment, "", time});
}

Status<StoreError> PostgresIncidentStore::change(IncidentId id, const IncidentChange& c) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  // One statement: the incident, its history row and the notification
  // change together (NOTIFY is delivered at commit).
  pg::Params p;
  p.add(id);
  if (c.status)
    p.add(to_string(*c.status));
  else
    p.add_null();
  if (c.assignee)
    p.add(*c.assignee);
  else
    p.add_null();
  p.add(rows::to_seconds(c.time)).add(c.comment).add(c.user).add(std::string_view(kChannel));
  auto r = pg::exec(lease->get(),
                    "WITH u AS (UPDATE incidents SET status = COALESCE($2, status), "
                    "assignee = COALESCE($3, assignee) WHERE id = $1 RETURNING id, status), "
                    "h AS (INSERT INTO status_history (incident_id, time, status, comment, "
                    "changed_by, assignee) SELECT id, $4, status, $5, $6, $3 FROM u RETURNING "
                    "incident_id) "
                    "SELECT pg_notify($7, incident_id::text) FROM h",
                    p);
  if (!r) return fail(r.error());
  if (r->size() == 0)
    return fail(StoreError{StoreErrorCode::not_found, "no incident " + std::to_string(id)});
  return Ok{};
}

StoreResult<std::vector<ConsoleUser>> PostgresIncidentStore::users() {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r =
      pg::exec(lease->get(), "SELECT name, password_hash, role FROM console_users ORDER BY name");
  if (!r) return fail(r.error());
  std::vector<ConsoleUser> out;
  for (int i = 0; i < r->size(); ++i) out.push_back({r->text(i, 0), r->text(i, 1), r->text(i, 2)});
  return out;
}

StoreResult<bool> PostgresIncidentStore::put_user(const ConsoleUser& user, bool replace) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(
      lease->get(),
      std::string("INSERT INTO console_users (name, password_hash, role) VALUES ($1, $2, $3) ") +
          (replace ? "ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
                     "role = EXCLUDED.role"
                   : "ON CONFLICT (name) DO NOTHING"),
      pg::Params().add(user.name).add(user.password_hash).add(user.role));
  if (!r) return fail(r.error());
  return r->affected() > 0;
}

Status<StoreError> PostgresIncidentStore::delete_user(const std::string& name) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r =
      pg::exec(lease->get(), "DELETE FROM console_users WHERE name = $1", pg::Params().add(name));
  if (!r) return fail(r.error());
  if (r->affected() == 0)
    return fail(StoreError{StoreErrorCode::not_found, "no console user " + name});
  return Ok{};
}

Status<StoreError> PostgresIncidentStore::put_session(const ConsoleSession& session) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto purge = pg::exec(lease->get(), "DELETE FROM console_sessions WHERE expires <= $1",
                        pg::Params().add(rows::to_seconds(Clock::now())));
  if (!purge) return fail(purge.error());
  auto r = pg::exec(lease->get(),
                    "INSERT INTO console_sessions (token_hash, user_name, csrf_token, expires) "
                    "VALUES ($1, $2, $3, $4)",
                    pg::Params()
                        .add(session.token_hash)
                        .add(session.user)
                        .add(session.csrf_token)
                        .add(rows::to_seconds(session.expires)));
  if (!r) return fail(r.error());
  return Ok{};
}

StoreResult<std::optional<ConsoleSession>> PostgresIncidentStore::find_session(
    const std::string& token_hash, Clock::time_point now) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(),
                    "SELECT s.user_name, s.csrf_token, s.expires, u.role FROM console_sessions s "
                    "JOIN console_users u ON u.name = s.user_name "
                    "WHERE s.token_hash = $1 AND s.expires > $2",
                    pg::Params().add(token_hash).add(rows::to_seconds(now)));
  if (!r) return fail(r.error());
  if (r->size() == 0) return std::optional<ConsoleSession>();
  return std::optional<ConsoleSession>(ConsoleSession{token_hash, r->text(0, 0), r->text(0, 1),
                                                      rows::from_seconds(r->integer(0, 2)),
                                                      r->text(0, 3)});
}

Status<StoreError> PostgresIncidentStore::delete_session(const std::string& token_hash) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(), "DELETE FROM console_sessions WHERE token_hash = $1",
                    pg::Params().add(token_hash));
  if (!r) return fail(r.error());
  return Ok{};
}

StoreResult<std::vector<SavedFilter>> PostgresIncidentStore::saved_filters(
    const std::string& user) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(),
                    "SELECT name, query FROM saved_filters WHERE user_name = $1 ORDER BY name",
                    pg::Params().add(user));
  if (!r) return fail(r.error());
  std::vector<SavedFilter> out;
  for (int i = 0; i < r->size(); ++i) out.push_back({r->text(i, 0), r->text(i, 1)});
  return out;
}

Status<StoreError> PostgresIncidentStore::put_saved_filter(const std::string& user,
                                                           const SavedFilter& filter) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(),
                    "INSERT INTO saved_filters (user_name, name, query) VALUES ($1, $2, $3) "
                    "ON CONFLICT (user_name, name) DO UPDATE SET query = EXCLUDED.query",
                    pg::Params().add(user).add(filter.name).add(filter.query));
  if (!r) return fail(r.error());
  return Ok{};
}

Status<StoreError> PostgresIncidentStore::delete_saved_filter(const std::string& user,
                                                              const std::string& name) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(), "DELETE FROM saved_filters WHERE user_name = $1 AND name = $2",
                    pg::Params().add(user).add(name));
  if (!r) return fail(r.error());
  if (r->affected() == 0)
    return fail(StoreError{StoreErrorCode::not_found, "no saved filter " + name});
  return Ok{};
}

StoreResult<std::string> PostgresIncidentStore::change_token() {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  auto r = pg::exec(lease->get(), rows::kChangeToken);
  if (!r) return fail(r.error());
  return rows::change_token(r->integer(0, 0), r->integer(0, 1), r->integer(0, 2), r->integer(0, 3));
}

void PostgresIncidentStore::wait_for_change(std::chrono::milliseconds timeout) {
  std::lock_guard lock(listen_mutex_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto drain = [&] {
    bool any = false;
    while (PGnotify* n = PQnotifies(listener_.get())) {
      PQfreemem(n);
      any = true;
    }
    return any;
  };
  if (!listener_ || PQstatus(listener_.get()) != CONNECTION_OK) {
    listener_.reset();
    pg::ConnectOptions co;
    co.connect_timeout_s =
        static_cast<int>(std::max<std::int64_t>(options_.connect_timeout.count(), 1));
    co.statement_timeout_ms = static_cast<int>(options_.statement_timeout.count());
    auto conn = pg::connect(url_, co);
    if (conn) {
      auto listening = pg::exec_script(conn->get(), std::string("LISTEN ") + kChannel);
      if (listening) {
        listener_ = std::move(conn).value();
        return;  // (re)connected: what happened meanwhile is the caller's catch-up
      }
    }
    std::this_thread::sleep_until(deadline);
    return;
  }
  if (PQconsumeInput(listener_.get()) != 1) {
    listener_.reset();
    return;
  }
  if (drain()) return;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd fd{PQsocket(listener_.get()), POLLIN, 0};
  if (fd.fd < 0) {
    listener_.reset();
    return;
  }
  if (::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) > 0) {
    if (PQconsumeInput(listener_.get()) != 1) {
      listener_.reset();
      return;
    }
    drain();
  }
}

StoreResult<IncidentStats> PostgresIncidentStore::stats(std::optional<Clock::time_point> from,
                                                        std::optional<Clock::time_point> until,
                                                        std::size_t top) {
  auto lease = acquire();
  if (!lease) return fail(lease.error());
  PGconn* conn = lease->get();
  const Where where = rows::time_range(from, until);
  const auto limit = static_cast<std::int64_t>(top);
  IncidentStats stats;

  auto s =
      pg::exec(conn,
               pg::numbered("SELECT to_char(to_timestamp(first_seen) AT TIME ZONE 'UTC', "
                            "'YYYY-MM-DD') AS day, max_severity, COUNT(*) FROM incidents" +
                            where.sql + " GROUP BY day, max_severity ORDER BY day, max_severity"),
               params_of(where));
  if (!s) return fail(s.error());
  for (int i = 0; i < s->size(); ++i) {
    const auto severity = std::clamp<std::int64_t>(s->integer(i, 1), 0, 3);
    stats.by_severity_per_day.push_back(
        {s->text(i, 0), static_cast<Severity>(severity), s->integer(i, 2)});
  }
  {
    const auto end = until.value_or(Clock::now());
    auto start = end - std::chrono::hours(24);
    if (from && *from > start) start = *from;
    const Where hours = rows::time_range(start, until);
    auto h = pg::exec(
        conn,
        pg::numbered("SELECT to_char(to_timestamp(first_seen) AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24') AS hour, max_severity, COUNT(*) FROM incidents" +
                     hours.sql + " GROUP BY hour, max_severity ORDER BY hour, max_severity"),
        params_of(hours));
    if (!h) return fail(h.error());
    for (int i = 0; i < h->size(); ++i) {
      const auto severity = std::clamp<std::int64_t>(h->integer(i, 1), 0, 3);
      stats.by_severity_per_hour.push_back(
          {h->text(i, 0), static_cast<Severity>(severity), h->integer(i, 2)});
    }
  }
  auto domains = counts(
      conn,
      "SELECT lower(split_part(r.value, '@', 2)) AS domain, COUNT(DISTINCT incidents.id) AS n "
      "FROM incidents, json_array_elements_text(incidents.recipients::json) AS r(value)" +
          where.sql + " GROUP BY domain ORDER BY n DESC, domain LIMIT ?",
      where, limit);
  if (!domains) return fail(domains.error());
  stats.top_recipient_domains = std::move(domains).value();
  auto policies = counts(conn,
                         "SELECT p.name, COUNT(*) AS n FROM incident_policies p JOIN incidents "
                         "ON incidents.id = p.incident_id" +
                             where.sql + " GROUP BY p.name ORDER BY n DESC, p.name LIMIT ?",
                         where, limit);
  if (!policies) return fail(policies.error());
  stats.top_policies = std::move(policies).value();
  auto senders = counts(conn,
                        "SELECT sender, COUNT(*) AS n FROM incidents" + where.sql +
                            " GROUP BY sender ORDER BY n DESC, sender LIMIT ?",
                        where, limit);
  if (!senders) return fail(senders.error());
  stats.top_senders = std::move(senders).value();
  auto actions = counts(conn,
                        "SELECT action, COUNT(*) AS n FROM incidents" + where.sql +
                            " GROUP BY action ORDER BY n DESC, action",
                        where, std::nullopt);
  if (!actions) return fail(actions.error());
  stats.by_action = std::move(actions).value();
  return stats;
}

StoreResult<std::int64_t> PostgresIncidentStore::purge(Clock::time_point cutoff) {
  // Policy rows and history go with their incident (ON DELETE CASCADE).
  // Each batch is one statement and so its own transaction.
  constexpr std::int64_t kBatch = 1000;
  std::int64_t total = 0;
  for (;;) {
    auto lease = acquire();
    if (!lease) return fail(lease.error());
    auto r = pg::exec(lease->get(),
                      "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents "
                      "WHERE last_seen < $1 ORDER BY id LIMIT $2)",
                      pg::Params().add(rows::to_seconds(cutoff)).add(kBatch));
    if (!r) return fail(r.error());
    const std::int64_t deleted = r->affected();
    total += deleted;
    if (deleted < kBatch) return total;
  }
}

}  // namespace cordon::incidents
