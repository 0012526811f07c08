// `cordon filter-test`: evaluate L7 sender/recipient filters for one envelope
// and explain the result: the decision on the first line, then which mask
// decided for the sender and for each recipient. A filter that does not
// parse is reported with its column and exits 2.
#include <cstdio>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "policy/filter.hpp"

namespace cordon::cli {
namespace {

using policy::Filter;

// Parses one filter or prints why not (with a caret under the column).
std::optional<Filter> parse_or_report(const char* which, const std::string& text) {
  auto parsed = policy::parse_filter(text);
  if (parsed) return std::move(parsed).value();
  const auto& e = parsed.error();
  std::fprintf(stderr, "cordon: bad %s filter: %s\n  %s\n  %s^\n", which, e.message.c_str(),
               text.c_str(), std::string(e.offset, ' ').c_str());
  return std::nullopt;
}

std::string shown(const std::string& address) {
  return address.empty() ? "<>" : address;
}

int run_filter_test(const std::string& sender_filter, const std::string& recipient_filter,
                    const std::string& from, const std::vector<std::string>& to) {
  auto sender = parse_or_report("sender", sender_filter);
  auto recipient = parse_or_report("recipient", recipient_filter);
  if (!sender || !recipient) return 2;
  const auto d = policy::evaluate_filters(*sender, *recipient, from, to);
  std::printf("%s\n", std::string(policy::to_string(d.action)).c_str());
  std::printf("sender %s: %s\n", shown(d.sender.address).c_str(), explain(d.sender).c_str());
  for (const auto& r : d.recipients)
    std::printf("recipient %s: %s\n", shown(r.address).c_str(), explain(r).c_str());
  std::printf("recipients: %s (%s)\n", std::string(policy::to_string(d.recipients_action)).c_str(),
              d.recipients_action == policy::FilterAction::ignore ? "every recipient is ignored"
                                                                  : "at least one is inspected");
  return 0;
}

}  // namespace

void add_filter_test_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string sender_filter, recipient_filter, from;
    std::vector<std::string> to;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("filter-test",
                                 "Print inspect or ignore for an envelope, and which mask decided");
  cmd->add_option("--sender-filter", opts->sender_filter, "Sender filter (comma-separated masks)");
  cmd->add_option("--recipient-filter", opts->recipient_filter,
                  "Recipient filter (comma-separated masks)");
  cmd->add_option("--from", opts->from, "Envelope sender")->required();
  cmd->add_option("--to", opts->to, "Envelope recipient (repeatable)")->required();
  cmd->callback([&exit_code, opts] {
    exit_code = run_filter_test(opts->sender_filter, opts->recipient_filter, opts->from, opts->to);
  });
}

}  // namespace cordon::cli
