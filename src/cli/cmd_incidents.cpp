// `cordon incidents`: list recorded incidents.
#include "cli/commands.hpp"
#include "cli/unavailable.hpp"

namespace cordon::cli {

void add_incidents_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config;
    std::string format = "text";
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("incidents", "List recorded incidents");
  cmd->add_option("--config", opts->config, "YAML configuration file");
  cmd->add_option("--format", opts->format, "Output format")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&exit_code, opts] { exit_code = unavailable("incidents"); });
}

}  // namespace cordon::cli
