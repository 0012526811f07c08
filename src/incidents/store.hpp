// IncidentStore: the interface every incident backend implements (SQLite
// now, PostgreSQL later), so roles and the console never see SQL.
//
// Guarantees every backend must give:
//   - record() is atomic, also between processes: the same content hash and
//     the same set of policy names as an existing incident increments its
//     repeat_count, updates last_seen and returns its id; otherwise a new id,
//     larger than every id handed out before, is returned;
//   - no method throws; failures come back as StoreError values.
#pragma once

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
  std::vector<Count> top_policies;                    // most incidents first
  std::vector<Count> top_senders;
  std::vector<Count> by_action;
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
