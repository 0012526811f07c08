// Internal to the config loader: reads the `policies:` list and what the
// policy set does with content it cannot read (`on_unscannable:`).
#pragma once

#include "config/detail/yaml_include.hpp"

#include <vector>

#include "config/config.hpp"

namespace cordon::config {

// Throws yaml::LoadFailure on the first error.
std::vector<policy::Policy> read_policies(const YAML::Node& node, SourceMark fallback);

namespace yaml {
class MapReader;
}
// `on_unscannable: block | flag | pass`, or the long form
// `on_unscannable: {action, severity, reply}`; the default when absent.
policy::Unscannable read_on_unscannable(const yaml::MapReader& top);

}  // namespace cordon::config
