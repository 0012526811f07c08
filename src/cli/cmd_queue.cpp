// `cordon queue`: inspect and manage the gateway's queue (like mailq/postqueue).
#include "cli/commands.hpp"
#include "cli/unavailable.hpp"

namespace cordon::cli {

void add_queue_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config;
    std::string format = "text";
    std::string id;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("queue", "The gateway's queue: list, flush, delete, hold, release");
  cmd->add_option("--config", opts->config, "YAML configuration file");
  cmd->add_option("--format", opts->format, "Output format")->check(CLI::IsMember({"text", "json"}));
  cmd->require_subcommand(1);
  cmd->add_subcommand("list", "List queued messages");
  cmd->add_subcommand("flush", "Retry every deferred message now");
  for (const char* verb : {"delete", "hold", "release"}) {
    auto* sub = cmd->add_subcommand(verb, std::string(verb) + " one message by queue id");
    sub->add_option("id", opts->id, "Queue id")->required();
  }
  cmd->callback([&exit_code, opts] { exit_code = unavailable("queue"); });
}

}  // namespace cordon::cli
