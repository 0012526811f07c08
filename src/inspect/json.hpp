// The JSON form of a verdict's fired policies, shared by `cordon scan` and
// the monitor: [{"name","severity","matches":[{"rule","component","count","samples"}]}].
#pragma once

#include <nlohmann/json.hpp>

#include "policy/evaluate.hpp"

namespace cordon::inspect {

nlohmann::json policies_json(const policy::Verdict& verdict);

}  // namespace cordon::inspect
