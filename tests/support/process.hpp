// Test helpers: run a command and capture its output and exit status, find
// the cordon binary and the source tree (environment first, then the paths
// the build compiled in).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace cordon::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // standard output (and standard error when merged by the command)
};

// Runs `command` with /bin/sh and captures its standard output.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string cordon_bin() {
  const char* p = std::getenv("CORDON_BIN");
#ifdef CORDON_TEST_BIN
  return p ? p : CORDON_TEST_BIN;
#else
  return p ? p : "./cordon";
#endif
}

inline std::string source_dir() {
  const char* p = std::getenv("CORDON_SOURCE_DIR");
#ifdef CORDON_TEST_SOURCE_DIR
  return p ? p : CORDON_TEST_SOURCE_DIR;
#else
  return p ? p : ".";
#endif
}

}  // namespace cordon::testing
