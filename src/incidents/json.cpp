// JSON rendering and parsing of incidents; see json.hpp.
#include "incidents/json.hpp"

namespace cordon::incidents {

nlohmann::json policies_to_json(const std::vector<PolicyHit>& policies) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : policies) {
    nlohmann::json matches = nlohmann::json::array();
    for (const auto& m : p.matches) {
      nlohmann::json match = {
          {"rule", m.rule}, {"component", m.component}, {"count", m.count}, {"samples", m.samples}};
      // Only where there are any: incidents stored before had none.
      if (!m.contexts.empty()) match["contexts"] = m.contexts;
      matches.push_back(std::move(match));
    }
    out.push_back({{"name", p.name}, {"severity", to_string(p.severity)}, {"matches", matches}});
  }
  return out;
}

Result<std::vector<PolicyHit>, std::string> policies_from_json(const nlohmann::json& json) {
  // Parsing stored data: a type mismatch means a damaged row, reported, not thrown.
  try {
    std::vector<PolicyHit> policies;
    for (const auto& p : json) {
      PolicyHit hit;
      hit.name = p.at("name").get<std::string>();
      auto severity = parse_severity(p.at("severity").get<std::string>());
      if (!severity) return fail(std::string("unknown severity in stored incident"));
      hit.severity = *severity;
      for (const auto& m : p.at("matches")) {
        hit.matches.push_back(
            {m.at("rule").get<std::string>(), m.at("component").get<std::string>(),
             m.at("count").get<std::uint64_t>(), m.at("samples").get<std::vector<std::string>>(),
             m.contains("contexts") ? m.at("contexts").get<std::vector<std::string>>()
                                    : std::vector<std::string>{}});
      }
      policies.push_back(std::move(hit));
    }
    return policies;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("malformed stored policies: ") + e.what());
  }
}

nlohmann::json to_json(const Incident& i) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& h : i.history) {
    nlohmann::json entry = {{"time", format_rfc3339(h.time)},
                            {"status", to_string(h.status)},
                            {"comment", h.comment},
                            {"user", h.user}};
    if (h.assignee) entry["assignee"] = *h.assignee;
    history.push_back(std::move(entry));
  }
  return {{"id", i.id},
          {"time", format_rfc3339(i.time)},
          {"last_seen", format_rfc3339(i.last_seen)},
          {"sender", i.sender},
          {"recipients", i.recipients},
          {"subject", i.subject},
          {"message_id", i.message_id},
          {"client_address", i.client_address},
          {"client_helo", i.client_helo},
          {"content_hash", i.content_hash},
          {"action", to_string(i.action)},
          {"status", to_string(i.status)},
          {"severity", to_string(i.max_severity())},
          {"repeat_count", i.repeat_count},
          {"assignee", i.assignee},
          {"policies", policies_to_json(i.policies)},
          {"history", history}};
}

nlohmann::json to_json(const std::vector<Incident>& incidents) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : incidents) out.push_back(to_json(i));
  return out;
}

}  // namespace cordon::incidents
