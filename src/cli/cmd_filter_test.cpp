// `cordon filter-test`: evaluate L7 sender/recipient filters for one envelope.
#include "cli/commands.hpp"
#include "cli/unavailable.hpp"

namespace cordon::cli {

void add_filter_test_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string sender_filter, recipient_filter, from;
    std::vector<std::string> to;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "filter-test", "Print inspect or ignore for an envelope, and which mask decided");
  cmd->add_option("--sender-filter", opts->sender_filter, "Sender filter (comma-separated masks)");
  cmd->add_option("--recipient-filter", opts->recipient_filter, "Recipient filter (comma-separated masks)");
  cmd->add_option("--from", opts->from, "Envelope sender")->required();
  cmd->add_option("--to", opts->to, "Envelope recipient (repeatable)")->required();
  cmd->callback([&exit_code, opts] { exit_code = unavailable("filter-test"); });
}

}  // namespace cordon::cli
