// The fired policies as JSON (see json.hpp).
#include "inspect/json.hpp"

namespace cordon::inspect {

nlohmann::json policies_json(const policy::Verdict& verdict) {
  auto policies = nlohmann::json::array();
  for (const auto& p : verdict.policies) {
    auto matches = nlohmann::json::array();
    for (const auto& m : p.matches)
      matches.push_back({{"rule", m.rule},
                         {"component", m.component},
                         {"count", m.count},
                         {"samples", m.samples}});
    policies.push_back(
        {{"name", p.name}, {"severity", policy::to_string(p.severity)}, {"matches", matches}});
  }
  return policies;
}

}  // namespace cordon::inspect
