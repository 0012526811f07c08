// Internal to the config loader: reads the `policies:` list and what the
// policy set does with content it cannot read (`on_unscannable:`).
#pragma once

#include "config/detail/yaml_include.hpp"

#include <vector>

#include "config/config.hpp"

namespace cordon::config {

namespace yaml {
class MapReader;
class Problems;
}  // namespace yaml

// Each policy's first error is recorded in `problems` and the next policy
// is read; throws yaml::LoadFailure when `node` is not a list.
std::vector<policy::Policy> read_policies(const YAML::Node& node, SourceMark fallback,
                                          yaml::Problems& problems);

// `edm: {key_file, profiles: [{name, index, columns, column_types, common_rows}]}`.
policy::EdmSettings read_edm(const yaml::MapReader& top);
// `idm: {key_file, profiles: [{name, index, boilerplate: [files]}]}`.
policy::IdmSettings read_idm(const yaml::MapReader& top);

// `on_unscannable: block | flag | pass`, or the long form
// `on_unscannable: {action, severity, reply}`; the default when absent.
policy::Unscannable read_on_unscannable(const yaml::MapReader& top);

}  // namespace cordon::config
