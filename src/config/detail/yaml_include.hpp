// The one place the config loader includes yaml-cpp. GCC's
// -Wdangling-pointer warnings inside yaml-cpp's node/impl.h are real: they
// fire when a Node reference outlives the temporary proxy a map iterator
// returns, so copy the key/value Nodes and keep the warning on.
#pragma once

#include <yaml-cpp/yaml.h>
