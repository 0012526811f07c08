// The cordon subcommands. Each add_*_command registers one CLI11 subcommand
// whose callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace cordon::cli {

void add_run_command(CLI::App& app, int& exit_code);
void add_scan_command(CLI::App& app, int& exit_code);
void add_check_config_command(CLI::App& app, int& exit_code);
void add_filter_test_command(CLI::App& app, int& exit_code);
void add_incidents_command(CLI::App& app, int& exit_code);
void add_queue_command(CLI::App& app, int& exit_code);
void add_monitor_command(CLI::App& app, int& exit_code);
void add_edm_command(CLI::App& app, int& exit_code);
void add_idm_command(CLI::App& app, int& exit_code);

// Where compiled detection databases are cached ($XDG_CACHE_HOME/cordon/
// detect-cache, else ~/.cache/...); nothing when neither variable is set.
std::optional<std::string> compiled_cache_dir();

}  // namespace cordon::cli
