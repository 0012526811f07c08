// JSON rendering of incidents, the `cordon incidents --format json` contract
// (docs/formats.md): an array of {"id","time","sender","recipients","subject",
// "message_id","action","repeat_count","policies":[{"name","severity",
// "matches":[{"rule","component","count","samples"}]}]} plus the extra
// fields "last_seen", "status", "severity", "content_hash" and "history".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "incidents/incident.hpp"
#include "util/result.hpp"

namespace cordon::incidents {

nlohmann::json to_json(const Incident& incident);
nlohmann::json to_json(const std::vector<Incident>& incidents);

// The policies array alone, also the storage form in the SQLite backend.
nlohmann::json policies_to_json(const std::vector<PolicyHit>& policies);
Result<std::vector<PolicyHit>, std::string> policies_from_json(const nlohmann::json& json);

}  // namespace cordon::incidents
