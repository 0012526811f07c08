// What the SQL backends (SQLite, PostgreSQL) share: the stored form of an
// incident row, the de-duplication key, and the WHERE clause built from an
// IncidentQuery. Each backend keeps only its driver calls and its dialect.
// Internal to src/incidents.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "incidents/store.hpp"

namespace cordon::incidents::rows {

// The column list every SELECT of whole incidents uses, in StoredRow order.
inline constexpr std::string_view kColumns =
    "id, first_seen, last_seen, sender, recipients, subject, message_id, content_hash, policies, "
    "action, status, repeat_count, client_address, client_helo, assignee";

// One incidents row as text and integers, as both drivers hand it back.
struct StoredRow {
  std::int64_t id = 0;
  std::int64_t first_seen = 0;  // Unix seconds, UTC
  std::int64_t last_seen = 0;
  std::string sender;
  std::string recipients;  // JSON array
  std::string subject;
  std::string message_id;
  std::string content_hash;
  std::string policies;  // JSON, see json.hpp
  std::string action;
  std::string status;
  std::int64_t repeat_count = 0;
  std::string client_address{};
  std::string client_helo{};
  std::string assignee{};
};

StoreResult<Incident> to_incident(const StoredRow& row);

// The derived columns written with a new incident.
struct NewRow {
  std::string recipients;         // JSON array
  std::string recipients_search;  // newline-joined, for substring search
  std::string policy_key;         // sorted distinct policy names, newline-joined
  std::string policies;           // JSON
  std::int64_t max_severity = 0;
};
NewRow to_new_row(const NewIncident& incident);

std::int64_t to_seconds(Clock::time_point t);
Clock::time_point from_seconds(std::int64_t s);

// JSON text that never throws on invalid UTF-8 (replaced by U+FFFD).
std::string dump(const nlohmann::json& j);

// `%needle%` with %, _ and \ escaped (ESCAPE '\').
std::string like_pattern(std::string_view needle);

// How a backend spells what differs between SQL dialects.
struct Dialect {
  std::string_view sender_equals;  // a condition on `sender` with one `?`
  std::string_view like;           // case-insensitive LIKE with ESCAPE '\'
};
inline constexpr Dialect kSqlite{"sender = ? COLLATE NOCASE", "LIKE"};
inline constexpr Dialect kPostgres{"lower(sender) = lower(?)", "ILIKE"};

// A WHERE clause with `?` parameter markers and its parameters in order.
struct Where {
  std::string sql;
  std::vector<std::variant<std::int64_t, std::string>> params;

  void add(std::string condition);
};

Where time_range(std::optional<Clock::time_point> from, std::optional<Clock::time_point> until);
Where filters(const IncidentQuery& query, const Dialect& dialect);
std::string_view sort_column(SortKey key);

// The change token: the newest incident id and the newest history row id.
// What moves when anything a console shows changes: the newest incident,
// the newest status change, and for repeats the newest last_seen with the
// repeats counted by the incidents seen in that second (a repeat either
// moves last_seen on or lands in that second). Cheap: ids and last_seen
// are indexed.
inline constexpr std::string_view kChangeToken =
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM incidents), "
    "(SELECT COALESCE(MAX(id), 0) FROM status_history), "
    "(SELECT COALESCE(MAX(last_seen), 0) FROM incidents), "
    "(SELECT COALESCE(SUM(repeat_count), 0) FROM incidents "
    "WHERE last_seen = (SELECT MAX(last_seen) FROM incidents))";
std::string change_token(std::int64_t newest_incident, std::int64_t newest_history,
                         std::int64_t newest_seen, std::int64_t newest_repeats);

inline constexpr const char* kAdmin = "admin";
inline constexpr const char* kAnalyst = "analyst";

StoreError corrupt(std::string message);

}  // namespace cordon::incidents::rows
