// `cordon scan`: inspect messages offline.
#include "cli/commands.hpp"
#include "cli/unavailable.hpp"

namespace cordon::cli {

void add_scan_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config;
    std::string format = "text";
    std::vector<std::string> files;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "scan", "Inspect messages offline; exit 0 clean, 1 violation(s), 2 error");
  cmd->add_option("--config", opts->config, "YAML configuration file (default: built-in policy pack)");
  cmd->add_option("--format", opts->format, "Output format")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("files", opts->files, "Message files (.eml), or - for standard input")->required();
  cmd->callback([&exit_code, opts] { exit_code = unavailable("scan"); });
}

}  // namespace cordon::cli
