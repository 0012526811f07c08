// Internal to the config loader: reads the `policies:` list.
#pragma once

#include "policy/yaml_include.hpp"

#include <vector>

#include "policy/config.hpp"

namespace cordon::policy {

// Throws yaml::LoadFailure on the first error.
std::vector<Policy> read_policies(const YAML::Node& node, SourceMark fallback);

}  // namespace cordon::policy
