// `cordon run`: start the roles the configuration names.
#include "cli/commands.hpp"
#include "cli/unavailable.hpp"

namespace cordon::cli {

void add_run_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("run", "Start the roles the config names (no --config: embedded default)");
  auto config = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "YAML configuration file");
  cmd->callback([&exit_code, config] { exit_code = unavailable("run"); });
}

}  // namespace cordon::cli
