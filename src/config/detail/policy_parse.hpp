// Internal to the config loader: reads the `policies:` list.
#pragma once

#include "config/detail/yaml_include.hpp"

#include <vector>

#include "config/config.hpp"

namespace cordon::config {

// Throws yaml::LoadFailure on the first error.
std::vector<policy::Policy> read_policies(const YAML::Node& node, SourceMark fallback);

}  // namespace cordon::config
