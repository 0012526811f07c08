// IncidentStore: the interface every incident backend implements (SQLite
// now, PostgreSQL later), so roles and the console never see SQL.
//
// Guarantees every backend must give:
//   - record() is atomic, also between processes: the same content hash and
//     the same set of policy names as an existing incident increments its
//     repeat_count, updates last_seen and returns its id; otherwise a new id,
//     larger than every id handed out before, is returned;
//   - no method throws; failures come back as StoreError values.
//
// Besides incidents, a store keeps what the console shares between its
// nodes: users, sessions (by a hash of the token only) and saved filters,
// so every console on one database sees the same sign-ins.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "incidents/incident.hpp"
#include "util/result.hpp"

namespace cordon::incidents {

enum class StoreErrorCode {
  open_failed,  // the database cannot be opened or created
  schema,       // unknown (newer) schema version, or migration failed
  busy,         // locked by another process for longer than the busy timeout
  not_found,    // no incident with that id
  io,           // any other database failure
};

struct StoreError {
  StoreErrorCode code;
  std::string message;
};

template <class T>
using StoreResult = Result<T, StoreError>;

struct RecordOutcome {
  IncidentId id = 0;
  bool repeated = false;          // an existing incident was bumped
  std::int64_t repeat_count = 0;  // after this call
  // Set instead of id when the incident was kept for a later write (see
  // outbox_store.hpp): what the block reply names.
  std::string reference;
};

enum class SortKey { id, time, last_seen, severity, repeat_count };

struct IncidentQuery {
  std::optional<Clock::time_point> from;   // first seen >= from
  std::optional<Clock::time_point> until;  // first seen < until
  std::optional<std::string> policy;       // has a hit for this policy name (exact)
  std::optional<Severity> severity;        // highest severity equals this
  std::optional<IncidentStatus> status;
  std::optional<Action> action;
  std::optional<std::string> sender;     // exact, case-insensitive
  std::optional<std::string> recipient;  // substring of any recipient, case-insensitive
  std::optional<std::string> text;       // substring of subject, sender or recipients
  // Partial matches, case-insensitive substrings.
  std::optional<std::string> sender_contains;
  std::optional<std::string> subject_contains;
  std::optional<std::string> policy_contains;  // of any policy name
  std::optional<std::string> assignee;         // exact; "" = unassigned
  SortKey sort = SortKey::id;
  bool descending = true;
  std::size_t limit = 100;  // 0 = no limit
  std::size_t offset = 0;
};

struct Count {
  std::string key;  // policy name, sender, action, ...
  std::int64_t count = 0;
};

struct SeverityDayCount {
  std::string day;  // YYYY-MM-DD (UTC) of first seen
  Severity severity;
  std::int64_t count = 0;
};

struct IncidentStats {
  std::vector<SeverityDayCount> by_severity_per_day;  // by day, then severity
  // The last 24 hours of the range (ending at `until`, or now), by hour:
  // `day` is then YYYY-MM-DDTHH (UTC).
  std::vector<SeverityDayCount> by_severity_per_hour;
  // Incidents per recipient domain (lower case); an incident to two
  // addresses of one domain counts once.
  std::vector<Count> top_recipient_domains;
  std::vector<Count> top_policies;  // most incidents first
  std::vector<Count> top_senders;
  std::vector<Count> by_action;
};

// A change an analyst makes to an incident: its status, its owner or both,
// recorded in the status history with who made it.
struct IncidentChange {
  std::optional<IncidentStatus> status;  // unset: unchanged
  std::optional<std::string> assignee;   // unset: unchanged; "": nobody
  std::string comment;
  std::string user;  // who made the change ("" for cordon itself)
  Clock::time_point time;
};

// A console user. `password_hash` is pbkdf2-sha256$... (console/auth.hpp).
struct ConsoleUser {
  std::string name;
  std::string password_hash;
  std::string role;  // "admin" | "analyst"
};

// A console session. Only a hash of the token (the cookie) is stored: a
// copy of the database signs no one in.
struct ConsoleSession {
  std::string token_hash;  // SHA-256 hex of the token
  std::string user;
  std::string csrf_token;
  Clock::time_point expires;
  std::string role;  // filled by find_session() from the user's current role
};

// A named list filter of one user: the query string of GET /incidents.
struct SavedFilter {
  std::string name;
  std::string query;
};

class IncidentStore {
 public:
  virtual ~IncidentStore() = default;

  virtual StoreResult<RecordOutcome> record(const NewIncident& incident) = 0;
  virtual StoreResult<Incident> get(IncidentId id) = 0;
  virtual StoreResult<std::vector<Incident>> list(const IncidentQuery& query) = 0;
  // Total incidents matching the query's filters (paging ignored).
  virtual StoreResult<std::int64_t> count(const IncidentQuery& query) = 0;
  virtual Status<StoreError> update_status(IncidentId id, IncidentStatus status,
                                           const std::string& comment, Clock::time_point time) = 0;
  // Counts over incidents first seen in [from, until); `top` bounds the top lists.
  virtual StoreResult<IncidentStats> stats(std::optional<Clock::time_point> from,
                                           std::optional<Clock::time_point> until,
                                           std::size_t top = 10) = 0;

  // The backends below implement these; a store that does not (a test
  // double) refuses them, so nothing silently pretends to have saved.
  //
  // Status and/or owner in one step; not_found for an unknown id.
  virtual Status<StoreError> change(IncidentId id, const IncidentChange& change);

  virtual StoreResult<std::vector<ConsoleUser>> users();  // by name
  // Adds the user, or with `replace` also overwrites one of that name.
  // Returns whether it was written (false: it existed and !replace).
  virtual StoreResult<bool> put_user(const ConsoleUser& user, bool replace);
  // Removes the user with its sessions and saved filters; not_found if none.
  virtual Status<StoreError> delete_user(const std::string& name);

  // Stores the session and drops every expired one.
  virtual Status<StoreError> put_session(const ConsoleSession& session);
  // The live session of that token hash, with its user's role; an expired
  // one, or one whose user is gone, is nothing.
  virtual StoreResult<std::optional<ConsoleSession>> find_session(const std::string& token_hash,
                                                                  Clock::time_point now);
  virtual Status<StoreError> delete_session(const std::string& token_hash);

  virtual StoreResult<std::vector<SavedFilter>> saved_filters(const std::string& user);
  virtual Status<StoreError> put_saved_filter(const std::string& user, const SavedFilter& filter);
  virtual Status<StoreError> delete_saved_filter(const std::string& user, const std::string& name);

  // A token that changes whenever an incident is added or changed by
  // change(): consoles compare it to know when their lists are stale.
  virtual StoreResult<std::string> change_token();
  // Returns when another process may have changed something, or after at
  // most `timeout`. PostgreSQL waits on LISTEN; elsewhere it just sleeps,
  // and the caller polls change_token(). For one caller at a time.
  virtual void wait_for_change(std::chrono::milliseconds timeout);
  // Deletes every incident last seen before `cutoff`, with its policy rows
  // and status history; returns how many incidents went. An incident seen
  // again since stays whole, however old its first sighting. Deleted in
  // batches, each its own transaction, so writers wait for one batch at
  // most; ids of deleted incidents are never handed out again.
  virtual StoreResult<std::int64_t> purge(Clock::time_point cutoff) {
    (void)cutoff;
    return fail(StoreError{StoreErrorCode::io, "this incident store cannot purge"});
  }
};

}  // namespace cordon::incidents
