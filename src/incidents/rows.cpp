// The parts of an incident row both SQL backends share; see detail/rows.hpp.
#include "incidents/detail/rows.hpp"

#include <algorithm>
#include <set>

#include "incidents/json.hpp"

namespace cordon::incidents::rows {

std::int64_t to_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Clock::time_point from_seconds(std::int64_t s) {
  return Clock::time_point(std::chrono::seconds(s));
}

std::string dump(const nlohmann::json& j) {
  // Subjects and addresses may hold invalid UTF-8; never throw on them.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string like_pattern(std::string_view needle) {
  std::string out = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

StoreError corrupt(std::string message) {
  return {StoreErrorCode::io, std::move(message)};
}

StoreResult<Incident> to_incident(const StoredRow& row) {
  Incident i;
  i.id = row.id;
  i.time = from_seconds(row.first_seen);
  i.last_seen = from_seconds(row.last_seen);
  i.sender = row.sender;
  auto recipients = nlohmann::json::parse(row.recipients, nullptr, false);
  if (recipients.is_discarded() || !recipients.is_array())
    return fail(corrupt("malformed stored recipients"));
  for (const auto& r : recipients)
    if (r.is_string()) i.recipients.push_back(r.get<std::string>());
  i.subject = row.subject;
  i.message_id = row.message_id;
  i.client_address = row.client_address;
  i.client_helo = row.client_helo;
  i.content_hash = row.content_hash;
  auto policies_json = nlohmann::json::parse(row.policies, nullptr, false);
  if (policies_json.is_discarded()) return fail(corrupt("malformed stored policies"));
  // The policies column holds the hits, or (with a content preview) an
  // object {"policies", "headers", "preview"}.
  if (policies_json.is_object()) {
    i.headers = policies_json.value("headers", std::string{});
    i.preview = policies_json.value("preview", std::string{});
    policies_json = policies_json.value("policies", nlohmann::json::array());
  }
  auto policies = policies_from_json(policies_json);
  if (!policies) return fail(corrupt(policies.error()));
  i.policies = std::move(policies).value();
  auto action = parse_action(row.action);
  auto status = parse_status(row.status);
  if (!action || !status) return fail(corrupt("unknown stored action or status"));
  i.action = *action;
  i.status = *status;
  i.repeat_count = row.repeat_count;
  i.assignee = row.assignee;
  return i;
}

NewRow to_new_row(const NewIncident& in) {
  NewRow row;
  row.recipients = dump(nlohmann::json(in.recipients));
  for (const auto& r : in.recipients) row.recipients_search += r + "\n";
  std::set<std::string> names;
  Severity worst = Severity::info;
  for (const auto& p : in.policies) {
    names.insert(p.name);
    worst = std::max(worst, p.severity);
  }
  for (const auto& n : names) {
    if (!row.policy_key.empty()) row.policy_key += '\n';
    row.policy_key += n;
  }
  if (in.headers.empty() && in.preview.empty())
    row.policies = dump(policies_to_json(in.policies));
  else
    row.policies = dump(nlohmann::json{{"policies", policies_to_json(in.policies)},
                                       {"headers", in.headers},
                                       {"preview", in.preview}});
  row.max_severity = static_cast<std::int64_t>(worst);
  return row;
}

void Where::add(std::string condition) {
  sql += sql.empty() ? " WHERE " : " AND ";
  sql += condition;
}

Where time_range(std::optional<Clock::time_point> from, std::optional<Clock::time_point> until) {
  Where w;
  if (from) {
    w.add("first_seen >= ?");
    w.params.emplace_back(to_seconds(*from));
  }
  if (until) {
    w.add("first_seen < ?");
    w.params.emplace_back(to_seconds(*until));
  }
  return w;
}

Where filters(const IncidentQuery& q, const Dialect& dialect) {
  Where w = time_range(q.from, q.until);
  if (q.policy) {
    w.add(
        "EXISTS (SELECT 1 FROM incident_policies p WHERE p.incident_id = incidents.id "
        "AND p.name = ?)");
    w.params.emplace_back(*q.policy);
  }
  if (q.severity) {
    w.add("max_severity = ?");
    w.params.emplace_back(static_cast<std::int64_t>(*q.severity));
  }
  if (q.status) {
    w.add("status = ?");
    w.params.emplace_back(std::string(to_string(*q.status)));
  }
  if (q.action) {
    w.add("action = ?");
    w.params.emplace_back(std::string(to_string(*q.action)));
  }
  if (q.sender) {
    w.add(std::string(dialect.sender_equals));
    w.params.emplace_back(*q.sender);
  }
  const std::string like = " " + std::string(dialect.like) + " ? ESCAPE '\\'";
  if (q.recipient) {
    w.add("recipients_search" + like);
    w.params.emplace_back(like_pattern(*q.recipient));
  }
  if (q.text) {
    w.add("(subject" + like + " OR sender" + like + " OR recipients_search" + like + ")");
    const std::string pattern = like_pattern(*q.text);
    for (int k = 0; k < 3; ++k) w.params.emplace_back(pattern);
  }
  if (q.sender_contains) {
    w.add("sender" + like);
    w.params.emplace_back(like_pattern(*q.sender_contains));
  }
  if (q.subject_contains) {
    w.add("subject" + like);
    w.params.emplace_back(like_pattern(*q.subject_contains));
  }
  if (q.policy_contains) {
    w.add(
        "EXISTS (SELECT 1 FROM incident_policies p WHERE p.incident_id = incidents.id "
        "AND p.name" +
        like + ")");
    w.params.emplace_back(like_pattern(*q.policy_contains));
  }
  if (q.assignee) {
    w.add("assignee = ?");
    w.params.emplace_back(*q.assignee);
  }
  return w;
}

std::string change_token(std::int64_t newest_incident, std::int64_t newest_history,
                         std::int64_t newest_seen, std::int64_t newest_repeats) {
  return std::to_string(newest_incident) + "." + std::to_string(newest_history) + "." +
         std::to_string(newest_seen) + "." + std::to_string(newest_repeats);
}

std::string_view sort_column(SortKey key) {
  switch (key) {
    case SortKey::id:
      return "id";
    case SortKey::time:
      return "first_seen";
    case SortKey::last_seen:
      return "last_seen";
    case SortKey::severity:
      return "max_severity";
    case SortKey::repeat_count:
      return "repeat_count";
  }
  return "id";
}

}  // namespace cordon::incidents::rows
