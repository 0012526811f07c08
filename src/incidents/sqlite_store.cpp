// SQLite incident store; see sqlite_store.hpp and store.hpp for the contract.
//
// Layout: `incidents` holds one row per incident (recipients and the policy
// hits as JSON text, plus derived columns for filtering); `incident_policies`
// lists the policy names per incident for the policy filter and statistics;
// `status_history` keeps every status change with its comment;
// `schema_version` holds the single version number. Version 2 adds the
// owner of an incident, who made each history entry, and the console's
// users, sessions (token hashes) and saved filters.
#include "incidents/sqlite_store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <variant>

#include "incidents/detail/rows.hpp"
#include "incidents/json.hpp"
#include "util/fs.hpp"

namespace cordon::incidents {
namespace {

using sqlite::Statement;

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE incidents (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused
  first_seen    INTEGER NOT NULL,                   -- Unix seconds, UTC
  last_seen     INTEGER NOT NULL,
  sender        TEXT NOT NULL,
  recipients    TEXT NOT NULL,                      -- JSON array
  recipients_search TEXT NOT NULL,                  -- newline-joined, for substring search
  subject       TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  policy_key    TEXT NOT NULL,                      -- sorted distinct policy names
  policies      TEXT NOT NULL,                      -- JSON, see json.hpp
  max_severity  INTEGER NOT NULL,
  action        TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'new',
  repeat_count  INTEGER NOT NULL DEFAULT 0
);
-- The de-duplication key; a backstop to the transaction in record().
CREATE UNIQUE INDEX incidents_repeat ON incidents(content_hash, policy_key)
  WHERE content_hash <> '';
CREATE INDEX incidents_first_seen ON incidents(first_seen);
CREATE INDEX incidents_status ON incidents(status);
CREATE INDEX incidents_sender ON incidents(sender COLLATE NOCASE);
CREATE TABLE incident_policies (
  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  severity    INTEGER NOT NULL,
  PRIMARY KEY (incident_id, name)
);
CREATE INDEX incident_policies_name ON incident_policies(name);
CREATE TABLE status_history (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  time        INTEGER NOT NULL,
  status      TEXT NOT NULL,
  comment     TEXT NOT NULL
);
CREATE INDEX status_history_incident ON status_history(incident_id);
)sql";

// Version 2: the SMTP client of the message (see NewIncident).
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE incidents ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN client_helo TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: console users, sessions, owners and who made each change.
// Append-only, as every migration: a change is a new version.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE incidents ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_assignee ON incidents(assignee);
ALTER TABLE status_history ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE status_history ADD COLUMN assignee TEXT;  -- the new owner, when the change assigned
CREATE TABLE console_users (
  name          TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL
);
CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY,                      -- SHA-256 of the cookie: never the token
  user_name  TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  expires    INTEGER NOT NULL
);
CREATE TABLE saved_filters (
  user_name TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
  name      TEXT NOT NULL,
  query     TEXT NOT NULL,
  PRIMARY KEY (user_name, name)
);
)sql";

// Version 4: last_seen indexed, for the retention purge and the change
// token (which reads the newest last_seen).
constexpr std::string_view kSchemaV4 = R"sql(
CREATE INDEX incidents_last_seen ON incidents(last_seen);
)sql";

using rows::from_seconds;
using rows::to_seconds;
using rows::Where;

void bind_all(const Where& where, Statement& s, int first = 1) {
  int index = first;
  for (const auto& p : where.params) {
    if (std::holds_alternative<std::int64_t>(p))
      s.bind(index++, std::get<std::int64_t>(p));
    else
      s.bind(index++, std::string_view(std::get<std::string>(p)));
  }
}

StoreResult<Incident> read_row(const Statement& s) {
  return rows::to_incident({s.column_int(0), s.column_int(1), s.column_int(2), s.column_text(3),
                            s.column_text(4), s.column_text(5), s.column_text(6), s.column_text(7),
                            s.column_text(8), s.column_text(9), s.column_text(10), s.column_int(11),
                            s.column_text(12), s.column_text(13), s.column_text(14)});
}

StoreResult<std::vector<Count>> counts(sqlite3* db, const std::string& sql, const Where& where,
                                       std::optional<std::int64_t> limit) {
  auto s = Statement::prepare(db, sql);
  if (!s) return fail(s.error());
  bind_all(where, s.value());
  if (limit) s->bind(static_cast<int>(where.params.size()) + 1, *limit);
  std::vector<Count> out;
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!row.value()) break;
    out.push_back({s->column_text(0), s->column_int(1)});
  }
  return out;
}

}  // namespace

StoreResult<std::unique_ptr<SqliteIncidentStore>> SqliteIncidentStore::open(
    const std::string& path, std::chrono::milliseconds busy_timeout) {
  // Incidents hold masked matches, subjects and addresses: owner-only.
  // SQLite would create the file with 0644 less the umask; created here
  // first, empty (which SQLite takes as a new database), it is 0600 and the
  // -wal and -shm files SQLite adds take the database file's mode. An
  // existing file open to others is tightened, with a warning.
  if (util::UniqueFd created(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      !created.valid() && errno != EEXIST)
    return fail(
        StoreError{StoreErrorCode::open_failed, util::fs_error(errno, "create", path).message});
  for (const auto& file : {path, path + "-wal", path + "-shm"}) {
    auto notice = util::make_private(file);
    if (notice && !notice->empty()) spdlog::warn("incident store: {}", *notice);
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto store = std::make_unique<SqliteIncidentStore>(ConstructionKey{}, raw);
  if (rc != SQLITE_OK) {
    auto e = sqlite::error_from(raw, rc, "open " + path);
    return fail(StoreError{StoreErrorCode::open_failed, e.message});
  }
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  // WAL: readers (console, CLI) never block the writer (prevent, monitor).
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (auto ok = sqlite::exec(raw, pragma); !ok)
      return fail(StoreError{StoreErrorCode::open_failed, ok.error().message});
  }
  if (auto ok = store->migrate(); !ok) return fail(ok.error());
  return store;
}

Status<StoreError> SqliteIncidentStore::migrate() {
  auto tx = sqlite::Transaction::begin_immediate(db_.get());
  if (!tx) return fail(tx.error());
  if (auto ok = sqlite::exec(
          db_.get(), "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      !ok)
    return ok;
  auto s = Statement::prepare(db_.get(), "SELECT MAX(version) FROM schema_version");
  if (!s) return fail(s.error());
  auto row = s->step();
  if (!row) return fail(row.error());
  const std::int64_t version = s->column_is_null(0) ? 0 : s->column_int(0);
  if (version > kSchemaVersion)
    return fail(StoreError{StoreErrorCode::schema, "incident database has schema version " +
                                                       std::to_string(version) +
                                                       ", newer than this cordon (" +
                                                       std::to_string(kSchemaVersion) + ")"});
  const std::string_view steps[] = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4};
  for (std::int64_t v = version; v < kSchemaVersion; ++v) {
    if (auto ok = sqlite::exec(db_.get(), steps[v]); !ok)
      return fail(StoreError{StoreErrorCode::schema, ok.error().message});
    if (auto ok = sqlite::exec(db_.get(), "INSERT INTO schema_version(version) VALUES (" +
                                              std::to_string(v + 1) + ")");
        !ok)
      return ok;
  }
  return tx->commit();
}

StoreResult<RecordOutcome> SqliteIncidentStore::record(const NewIncident& in) {
  std::lock_guard lock(mutex_);
  sqlite3* db = db_.get();
  const rows::NewRow row = rows::to_new_row(in);
  const std::string& key = row.policy_key;
  auto tx = sqlite::Transaction::begin_immediate(db);
  if (!tx) return fail(tx.error());

  if (!in.content_hash.empty()) {
    auto bump = Statement::prepare(
        db,
        "UPDATE incidents SET repeat_count = repeat_count + 1, last_seen = MAX(last_seen, ?1) "
        "WHERE content_hash = ?2 AND policy_key = ?3 RETURNING id, repeat_count");
    if (!bump) return fail(bump.error());
    bump->bind(1, to_seconds(in.time)).bind(2, in.content_hash).bind(3, key);
    auto row = bump->step();
    if (!row) return fail(row.error());
    if (row.value()) {
      RecordOutcome outcome{bump->column_int(0), true, bump->column_int(1), {}};
      if (auto done = bump->run(); !done) return fail(done.error());
      if (auto ok = tx->commit(); !ok) return fail(ok.error());
      return outcome;
    }
  }

  auto insert = Statement::prepare(
      db,
      "INSERT INTO incidents (first_seen, last_seen, sender, recipients, recipients_search, "
      "subject, message_id, content_hash, policy_key, policies, max_severity, action, "
      "client_address, client_helo) "
      "VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  if (!insert) return fail(insert.error());
  insert->bind(1, to_seconds(in.time))
      .bind(2, in.sender)
      .bind(3, row.recipients)
      .bind(4, row.recipients_search)
      .bind(5, in.subject)
      .bind(6, in.message_id)
      .bind(7, in.content_hash)
      .bind(8, key)
      .bind(9, row.policies)
      .bind(10, row.max_severity)
      .bind(11, to_string(in.action))
      .bind(12, in.client_address)
      .bind(13, in.client_helo);
  if (auto ok = insert->run(); !ok) return fail(ok.error());
  const IncidentId id = sqlite3_last_insert_rowid(db);

  auto policy_row = Statement::prepare(
      db,
      "INSERT INTO incident_policies (incident_id, name, severity) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (incident_id, name) DO UPDATE SET severity = MAX(severity, excluded.severity)");
  if (!policy_row) return fail(policy_row.error());
  for (const auto& p : in.policies) {
    policy_row->bind(1, id).bind(2, p.name).bind(3, static_cast<std::int64_t>(p.severity));
    if (auto ok = policy_row->run(); !ok) return fail(ok.error());
    policy_row->reset();
  }
  if (auto ok = tx->commit(); !ok) return fail(ok.error());
  return RecordOutcome{id, false, 0, {}};
}

StoreResult<Incident> SqliteIncidentStore::get(IncidentId id) {
  std::lock_guard lock(mutex_);
  auto s = Statement::prepare(
      db_.get(), "SELECT " + std::string(rows::kColumns) + " FROM incidents WHERE id = ?");
  if (!s) return fail(s.error());
  s->bind(1, id);
  auto row = s->step();
  if (!row) return fail(row.error());
  if (!row.value())
    return fail(StoreError{StoreErrorCode::not_found, "no incident " + std::to_string(id)});
  auto incident = read_row(s.value());
  if (!incident) return incident;

  auto h =
      Statement::prepare(db_.get(),
                         "SELECT time, status, comment, changed_by, assignee FROM status_history "
                         "WHERE incident_id = ? ORDER BY id");
  if (!h) return fail(h.error());
  h->bind(1, id);
  for (;;) {
    auto hr = h->step();
    if (!hr) return fail(hr.error());
    if (!hr.value()) break;
    auto status = parse_status(h->column_text(1));
    if (!status) return fail(rows::corrupt("unknown stored status"));
    std::optional<std::string> assignee;
    if (!h->column_is_null(4)) assignee = h->column_text(4);
    incident->history.push_back({from_seconds(h->column_int(0)), *status, h->column_text(2),
                                 h->column_text(3), std::move(assignee)});
  }
  return incident;
}

StoreResult<std::vector<Incident>> SqliteIncidentStore::list(const IncidentQuery& query) {
  std::lock_guard lock(mutex_);
  const Where where = rows::filters(query, rows::kSqlite);
  std::string sql = "SELECT " + std::string(rows::kColumns) + " FROM incidents" + where.sql +
                    " ORDER BY " + std::string(rows::sort_column(query.sort)) +
                    (query.descending ? " DESC" : " ASC") + ", id" +
                    (query.descending ? " DESC" : " ASC") + " LIMIT ? OFFSET ?";
  auto s = Statement::prepare(db_.get(), sql);
  if (!s) return fail(s.error());
  bind_all(where, s.value());
  const int next = static_cast<int>(where.params.size()) + 1;
  s->bind(next, query.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(query.limit));
  s->bind(next + 1, static_cast<std::int64_t>(query.offset));
  std::vector<Incident> out;
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!row.value()) break;
    auto incident = read_row(s.value());
    if (!incident) return fail(incident.error());
    out.push_back(std::move(incident).value());
  }
  return out;
}

StoreResult<std::int64_t> SqliteIncidentStore::count(const IncidentQuery& query) {
  std::lock_guard lock(mutex_);
  const Where where = rows::filters(query, rows::kSqlite);
  auto s = Statement::prepare(db_.get(), "SELECT COUNT(*) FROM incidents" + where.sql);
  if (!s) return fail(s.error());
  bind_all(where, s.value());
  auto row = s->step();
  if (!row) return fail(row.error());
  return s->column_int(0);
}

Status<StoreError> SqliteIncidentStore::update_status(IncidentId id, IncidentStatus status,
                                                      const std::string& comment,
                                                      Clock::time_point time) {
  return change(id, IncidentChange{status, std::nullopt, comment, "", time});
}

Status<StoreError> SqliteIncidentStore::change(IncidentId id, const IncidentChange& c) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::Transaction::begin_immediate(db_.get());
  if (!tx) return fail(tx.error());
  auto u = Statement::prepare(db_.get(),
                              "UPDATE incidents SET status = COALESCE(?1, status), "
                              "assignee = COALESCE(?2, assignee) WHERE id = ?3 RETURNING status");
  if (!u) return fail(u.error());
  if (c.status)
    u->bind(1, to_string(*c.status));
  else
    u->bind_null(1);
  if (c.assignee)
    u->bind(2, *c.assignee);
  else
    u->bind_null(2);
  u->bind(3, id);
  auto row = u->step();
  if (!row) return fail(row.error());
  if (!row.value())
    return fail(StoreError{StoreErrorCode::not_found, "no incident " + std::to_string(id)});
  const std::string now_status = u->column_text(0);
  if (auto done = u->run(); !done) return done;
  auto h = Statement::prepare(db_.get(),
                              "INSERT INTO status_history (incident_id, time, status, comment, "
                              "changed_by, assignee) VALUES (?,?,?,?,?,?)");
  if (!h) return fail(h.error());
  h->bind(1, id).bind(2, to_seconds(c.time)).bind(3, now_status).bind(4, c.comment).bind(5, c.user);
  if (c.assignee)
    h->bind(6, *c.assignee);
  else
    h->bind_null(6);
  if (auto ok = h->run(); !ok) return ok;
  return tx->commit();
}

StoreResult<std::vector<ConsoleUser>> SqliteIncidentStore::users() {
  std::lock_guard lock(mutex_);
  auto s = Statement::prepare(db_.get(),
                              "SELECT name, password_hash, role FROM console_users ORDER BY name");
  if (!s) return fail(s.error());
  std::vector<ConsoleUser> out;
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!row.value()) break;
    out.push_back({s->column_text(0), s->column_text(1), s->column_text(2)});
  }
  return out;
}

StoreResult<bool> SqliteIncidentStore::put_user(const ConsoleUser& user, bool replace) {
  std::lock_guard lock(mutex_);
  auto s = Statement::prepare(
      db_.get(),
      std::string("INSERT INTO console_users (name, password_hash, role) VALUES (?, ?, ?) ") +
          (replace ? "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, "
                     "role = excluded.role"
                   : "ON CONFLICT (name) DO NOTHING"));
  if (!s) return fail(s.error());
  s->bind(1, user.name).bind(2, user.password_hash).bind(3, user.role);
  if (auto ok = s->run(); !ok) return fail(ok.error());
  return sqlite3_changes(db_.get()) > 0;
}

namespace {

// Runs one statement of text parameters; whether it changed a row.
StoreResult<bool> run_text(sqlite3* db, std::string_view sql,
                           std::initializer_list<std::string_view> params) {
  auto s = Statement::prepare(db, sql);
  if (!s) return fail(s.error());
  int i = 1;
  for (auto p : params) s->bind(i++, p);
  if (auto ok = s->run(); !ok) return fail(ok.error());
  return sqlite3_changes(db) > 0;
}

}  // namespace

Status<StoreError> SqliteIncidentStore::delete_user(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto done = run_text(db_.get(), "DELETE FROM console_users WHERE name = ?", {name});
  if (!done) return fail(done.error());
  if (!*done) return fail(StoreError{StoreErrorCode::not_found, "no console user " + name});
  return Ok{};
}

Status<StoreError> SqliteIncidentStore::put_session(const ConsoleSession& session) {
  std::lock_guard lock(mutex_);
  auto purge = Statement::prepare(db_.get(), "DELETE FROM console_sessions WHERE expires <= ?");
  if (!purge) return fail(purge.error());
  purge->bind(1, to_seconds(Clock::now()));
  if (auto ok = purge->run(); !ok) return ok;
  auto s = Statement::prepare(
      db_.get(),
      "INSERT INTO console_sessions (token_hash, user_name, csrf_token, expires) VALUES (?,?,?,?)");
  if (!s) return fail(s.error());
  s->bind(1, session.token_hash)
      .bind(2, session.user)
      .bind(3, session.csrf_token)
      .bind(4, to_seconds(session.expires));
  return s->run();
}

StoreResult<std::optional<ConsoleSession>> SqliteIncidentStore::find_session(
    const std::string& token_hash, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto s =
      Statement::prepare(db_.get(),
                         "SELECT s.user_name, s.csrf_token, s.expires, u.role "
                         "FROM console_sessions s JOIN console_users u ON u.name = s.user_name "
                         "WHERE s.token_hash = ? AND s.expires > ?");
  if (!s) return fail(s.error());
  s->bind(1, token_hash).bind(2, to_seconds(now));
  auto row = s->step();
  if (!row) return fail(row.error());
  if (!row.value()) return std::optional<ConsoleSession>();
  return std::optional<ConsoleSession>(
      ConsoleSession{token_hash, s->column_text(0), s->column_text(1),
                     from_seconds(s->column_int(2)), s->column_text(3)});
}

Status<StoreError> SqliteIncidentStore::delete_session(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  auto done =
      run_text(db_.get(), "DELETE FROM console_sessions WHERE token_hash = ?", {token_hash});
  if (!done) return fail(done.error());
  return Ok{};
}

StoreResult<std::vector<SavedFilter>> SqliteIncidentStore::saved_filters(const std::string& user) {
  std::lock_guard lock(mutex_);
  auto s = Statement::prepare(
      db_.get(), "SELECT name, query FROM saved_filters WHERE user_name = ? ORDER BY name");
  if (!s) return fail(s.error());
  s->bind(1, user);
  std::vector<SavedFilter> out;
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!row.value()) break;
    out.push_back({s->column_text(0), s->column_text(1)});
  }
  return out;
}

Status<StoreError> SqliteIncidentStore::put_saved_filter(const std::string& user,
                                                         const SavedFilter& filter) {
  std::lock_guard lock(mutex_);
  auto done = run_text(db_.get(),
                       "INSERT INTO saved_filters (user_name, name, query) VALUES (?, ?, ?) "
                       "ON CONFLICT (user_name, name) DO UPDATE SET query = excluded.query",
                       {user, filter.name, filter.query});
  if (!done) return fail(done.error());
  return Ok{};
}

Status<StoreError> SqliteIncidentStore::delete_saved_filter(const std::string& user,
                                                            const std::string& name) {
  std::lock_guard lock(mutex_);
  auto done = run_text(db_.get(), "DELETE FROM saved_filters WHERE user_name = ? AND name = ?",
                       {user, name});
  if (!done) return fail(done.error());
  if (!*done) return fail(StoreError{StoreErrorCode::not_found, "no saved filter " + name});
  return Ok{};
}

StoreResult<std::string> SqliteIncidentStore::change_token() {
  std::lock_guard lock(mutex_);
  auto s = Statement::prepare(db_.get(), rows::kChangeToken);
  if (!s) return fail(s.error());
  auto row = s->step();
  if (!row) return fail(row.error());
  return rows::change_token(s->column_int(0), s->column_int(1), s->column_int(2), s->column_int(3));
}

StoreResult<IncidentStats> SqliteIncidentStore::stats(std::optional<Clock::time_point> from,
                                                      std::optional<Clock::time_point> until,
                                                      std::size_t top) {
  std::lock_guard lock(mutex_);
  sqlite3* db = db_.get();
  const Where where = rows::time_range(from, until);
  const auto limit = static_cast<std::int64_t>(top);
  IncidentStats stats;

  auto s = Statement::prepare(
      db,
      "SELECT strftime('%Y-%m-%d', first_seen, 'unixepoch') AS day, max_severity, COUNT(*) "
      "FROM incidents" +
          where.sql + " GROUP BY day, max_severity ORDER BY day, max_severity");
  if (!s) return fail(s.error());
  bind_all(where, s.value());
  for (;;) {
    auto row = s->step();
    if (!row) return fail(row.error());
    if (!row.value()) break;
    const auto severity = std::clamp<std::int64_t>(s->column_int(1), 0, 3);
    stats.by_severity_per_day.push_back(
        {s->column_text(0), static_cast<Severity>(severity), s->column_int(2)});
  }

  {
    const auto end = until.value_or(Clock::now());
    auto start = end - std::chrono::hours(24);
    if (from && *from > start) start = *from;
    const Where hours = rows::time_range(start, until);
    auto h = Statement::prepare(
        db,
        "SELECT strftime('%Y-%m-%dT%H', first_seen, 'unixepoch') AS hour, max_severity, "
        "COUNT(*) FROM incidents" +
            hours.sql + " GROUP BY hour, max_severity ORDER BY hour, max_severity");
    if (!h) return fail(h.error());
    bind_all(hours, h.value());
    for (;;) {
      auto row = h->step();
      if (!row) return fail(row.error());
      if (!row.value()) break;
      const auto severity = std::clamp<std::int64_t>(h->column_int(1), 0, 3);
      stats.by_severity_per_hour.push_back(
          {h->column_text(0), static_cast<Severity>(severity), h->column_int(2)});
    }
  }

  auto domains =
      counts(db,
             "SELECT lower(substr(r.value, instr(r.value, '@') + 1)) AS domain, "
             "COUNT(DISTINCT incidents.id) AS n FROM incidents, json_each(incidents.recipients) r" +
                 where.sql + " GROUP BY domain ORDER BY n DESC, domain LIMIT ?",
             where, limit);
  if (!domains) return fail(domains.error());
  stats.top_recipient_domains = std::move(domains).value();

  auto policies = counts(db,
                         "SELECT p.name, COUNT(*) AS n FROM incident_policies p JOIN incidents "
                         "ON incidents.id = p.incident_id" +
                             where.sql + " GROUP BY p.name ORDER BY n DESC, p.name LIMIT ?",
                         where, limit);
  if (!policies) return fail(policies.error());
  stats.top_policies = std::move(policies).value();

  auto senders = counts(db,
                        "SELECT sender, COUNT(*) AS n FROM incidents" + where.sql +
                            " GROUP BY sender ORDER BY n DESC, sender LIMIT ?",
                        where, limit);
  if (!senders) return fail(senders.error());
  stats.top_senders = std::move(senders).value();

  auto actions = counts(db,
                        "SELECT action, COUNT(*) AS n FROM incidents" + where.sql +
                            " GROUP BY action ORDER BY n DESC, action",
                        where, std::nullopt);
  if (!actions) return fail(actions.error());
  stats.by_action = std::move(actions).value();
  return stats;
}

StoreResult<std::int64_t> SqliteIncidentStore::purge(Clock::time_point cutoff) {
  // Policy rows and history go with their incident (ON DELETE CASCADE,
  // foreign_keys is on for every connection).
  constexpr std::int64_t kBatch = 1000;
  std::int64_t total = 0;
  for (;;) {
    std::lock_guard lock(mutex_);
    auto tx = sqlite::Transaction::begin_immediate(db_.get());
    if (!tx) return fail(tx.error());
    auto d = Statement::prepare(db_.get(),
                                "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents "
                                "WHERE last_seen < ? ORDER BY id LIMIT ?)");
    if (!d) return fail(d.error());
    d->bind(1, to_seconds(cutoff)).bind(2, kBatch);
    if (auto ok = d->run(); !ok) return fail(ok.error());
    const std::int64_t deleted = sqlite3_changes(db_.get());
    if (auto ok = tx->commit(); !ok) return fail(ok.error());
    total += deleted;
    if (deleted < kBatch) return total;
  }
}

}  // namespace cordon::incidents
