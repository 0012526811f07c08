// Internal to the config loader: reads the `policies:` list.
#pragma once

#include "config/detail/yaml_include.hpp"

#include <vector>

#include "config/config.hpp"

namespace cordon::policy {

// Throws yaml::LoadFailure on the first error.
std::vector<Policy> read_policies(const YAML::Node& node, SourceMark fallback);

}  // namespace cordon::policy
