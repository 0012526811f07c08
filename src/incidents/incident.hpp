// The incident model: what cordon records when a policy fires on a message,
// plus the enums' text forms used in the database, JSON and the console.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::incidents {

using Clock = std::chrono::system_clock;
using IncidentId = std::int64_t;

enum class Action { block, redirect, modify, pass, monitor, hold };
enum class IncidentStatus { new_, in_progress, resolved, false_positive };
enum class Severity { info, low, medium, high };  // ordered: a higher value is worse

std::string_view to_string(Action action);
std::string_view to_string(IncidentStatus status);  // "new", "in_progress", ...
std::string_view to_string(Severity severity);
std::optional<Action> parse_action(std::string_view text);
std::optional<IncidentStatus> parse_status(std::string_view text);
std::optional<Severity> parse_severity(std::string_view text);

struct Match {
  std::string rule;       // e.g. "credit_card", "keywords", "regex ACME-[0-9]{6}"
  std::string component;  // subject | body | header | attachment:NAME | envelope
  std::uint64_t count = 0;
  std::vector<std::string> samples;  // already masked by the detector: never raw secrets
  // Each sample in a few words of the text it was found in, the value and
  // any other finding masked; at most one per sample, each about 80 bytes.
  std::vector<std::string> contexts{};
};

struct PolicyHit {
  std::string name;
  Severity severity = Severity::info;
  std::vector<Match> matches;
};

// What a role hands to IncidentStore::record().
struct NewIncident {
  Clock::time_point time;  // injectable for tests; roles pass Clock::now()
  std::string sender;
  std::vector<std::string> recipients;
  std::string subject;
  std::string message_id;
  // Caller-computed digest of the normalised message (e.g. SHA-256 hex of the
  // body). Same hash + same set of policy names = the same incident, so a
  // message re-sent after a failure bumps repeat_count instead of creating a
  // new incident. Empty: never de-duplicated.
  std::string content_hash;
  std::vector<PolicyHit> policies;
  Action action = Action::block;
  // The SMTP client the message came from (the one an MTA in front
  // forwarded with XFORWARD, if it did) and its EHLO name; empty when
  // unknown (offline scans).
  std::string client_address{};
  std::string client_helo{};
  // The message's header block (at most 8 KB) and the start of its first
  // body text (about 2 KB), every finding masked: the content preview the
  // console shows to admins only. Empty when not kept.
  std::string headers{};
  std::string preview{};
};

struct StatusChange {
  Clock::time_point time;
  IncidentStatus status;  // after the change
  std::string comment;
  std::string user;                     // who made it; "" for cordon itself
  std::optional<std::string> assignee;  // set when the change (re)assigned: the new owner
};

struct Incident {
  IncidentId id = 0;       // monotonically increasing, never reused; shown to senders
  Clock::time_point time;  // first seen
  Clock::time_point last_seen;
  std::string sender;
  std::vector<std::string> recipients;
  std::string subject;
  std::string message_id;
  std::string content_hash;
  std::vector<PolicyHit> policies;
  Action action = Action::block;
  IncidentStatus status = IncidentStatus::new_;
  std::int64_t repeat_count = 0;      // times seen again after the first (0 = once)
  std::string assignee;               // the analyst who owns it; "" = nobody
  std::vector<StatusChange> history;  // oldest first
  std::string client_address;         // see NewIncident
  std::string client_helo{};
  std::string headers{};  // see NewIncident
  std::string preview{};
  Severity max_severity() const;
};

// RFC 3339 in UTC with second precision: "2026-11-22T20:23:10Z".
std::string format_rfc3339(Clock::time_point time);

}  // namespace cordon::incidents
