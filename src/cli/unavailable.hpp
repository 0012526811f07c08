// Answer for a subcommand whose role is not part of this build yet: say so
// on standard error and exit 2, never pretend success.
#pragma once

#include <cstdio>

namespace cordon::cli {

inline int unavailable(const char* what) {
  std::fprintf(stderr, "cordon: '%s' is not available in this build\n", what);
  return 2;
}

}  // namespace cordon::cli
