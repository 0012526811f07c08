// Includes yaml-cpp 0.7, whose node/impl.h trips GCC 12's
// -Wdangling-pointer false positive (fixed upstream after 0.7); the warning
// is silenced for that header only so the rest of the code keeps -Werror.
#pragma once

#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop
