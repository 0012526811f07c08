// cordon's entry point: parses the command line and dispatches to a
// subcommand. Exit codes: 0 success/clean, 1 violation found, 2 error.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"cordon: email Data Loss Prevention (gateway, prevent, monitor, milter, console)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cordon 0.1.0");
  int exit_code = 0;
  cordon::cli::add_run_command(app, exit_code);
  cordon::cli::add_scan_command(app, exit_code);
  cordon::cli::add_check_config_command(app, exit_code);
  cordon::cli::add_filter_test_command(app, exit_code);
  cordon::cli::add_incidents_command(app, exit_code);
  cordon::cli::add_queue_command(app, exit_code);
  cordon::cli::add_monitor_command(app, exit_code);
  cordon::cli::add_edm_command(app, exit_code);
  cordon::cli::add_idm_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // Usage errors are errors (2); --help and --version are not.
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
