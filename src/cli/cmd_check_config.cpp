// `cordon check-config`: validate a configuration file.
#include "cli/commands.hpp"
#include "cli/unavailable.hpp"

namespace cordon::cli {

void add_check_config_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "check-config", "Validate a configuration; exit 0, or 2 with file:line:col and what is wrong");
  cmd->add_option("file", *file, "YAML configuration file")->required();
  cmd->callback([&exit_code, file] { exit_code = unavailable("check-config"); });
}

}  // namespace cordon::cli
