// `cordon scan`: inspect messages offline with the configured policies (no
// --config: the built-in policy pack) and print a verdict per message.
//
// --format json prints one compact JSON object per message, one per line
// (JSON Lines): {"file","verdict","policies":[{"name","severity","matches":
// [{"rule","component","count","samples"}]}],"reply"} ("reply" only when
// blocked; "problems" when parts could not be inspected). A file that
// cannot be read or parsed prints {"file","error"}.
//
// Each message goes through the same pipeline as in the mail path
// (inspect::inspect), without L7 filters, loop stamp or incident store:
// offline scans record no incident, so the block reply says
// "Incident ID: not recorded".
// The envelope is taken from the headers: From is the sender, To/Cc/Bcc the
// recipients (policy exceptions apply to it as they would in the mail path).
//
// Exit status: 2 if any file could not be scanned (or the configuration is
// bad), else 1 if any message violated a policy, else 0.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "inspect/from_config.hpp"
#include "inspect/inspect.hpp"
#include "config/config.hpp"

namespace cordon::cli {
namespace {

struct ScanOptions {
  std::string config;
  std::string format = "text";
  std::vector<std::string> files;
};

// Beyond this many files a progress line on a terminal is worth its noise.
constexpr std::size_t kProgressThreshold = 20;

Result<std::string, std::string> read_input(const std::string& file) {
  if (file == "-") {
    std::string data{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    if (std::cin.bad()) return fail(std::string("cannot read standard input"));
    return data;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("cannot open: " + std::string(std::strerror(errno)));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad() || (data.str().empty() && in.fail()))
    return fail(std::string("cannot read (a directory?)"));
  return data.str();
}

nlohmann::json verdict_json(const std::string& file, const policy::Verdict& v,
                            const std::string& reply, const std::vector<std::string>& problems) {
  nlohmann::json out = {{"file", file}, {"verdict", policy::to_string(v.action)}};
  auto policies = nlohmann::json::array();
  for (const auto& p : v.policies) {
    auto matches = nlohmann::json::array();
    for (const auto& m : p.matches)
      matches.push_back({{"rule", m.rule},
                         {"component", m.component},
                         {"count", m.count},
                         {"samples", m.samples}});
    policies.push_back(
        {{"name", p.name}, {"severity", policy::to_string(p.severity)}, {"matches", matches}});
  }
  out["policies"] = policies;
  if (!reply.empty()) out["reply"] = reply;
  if (v.action == policy::Action::redirect) out["redirect"] = v.redirect;
  if (v.action == policy::Action::modify) {
    if (!v.modify.subject_prefix.empty()) out["subject_prefix"] = v.modify.subject_prefix;
    if (!v.modify.add_headers.empty()) out["add_headers"] = v.modify.add_headers;
  }
  if (!problems.empty()) out["problems"] = problems;
  return out;
}

std::string json_line(const nlohmann::json& j) {
  // File names and samples may hold bytes that are not UTF-8: replace them
  // rather than fail the whole scan.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_text(const std::string& file, const policy::Verdict& v, const std::string& reply,
                const std::vector<std::string>& problems) {
  std::printf("%s: %s\n", file.c_str(), std::string(policy::to_string(v.action)).c_str());
  for (const auto& p : v.policies) {
    std::printf("  policy \"%s\" (%s)\n", p.name.c_str(),
                std::string(policy::to_string(p.severity)).c_str());
    for (const auto& m : p.matches) {
      std::string samples;
      for (const auto& s : m.samples) samples += (samples.empty() ? "" : ", ") + s;
      std::printf("    %s in %s: %zu unique [%s]\n", m.rule.c_str(), m.component.c_str(), m.count,
                  samples.c_str());
    }
  }
  if (!v.redirect.empty() && v.action == policy::Action::redirect)
    std::printf("  redirect to %s\n", v.redirect.c_str());
  if (!reply.empty()) {
    std::istringstream lines(reply);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::printf("  reply: %s\n", line.c_str());
    }
  }
  for (const auto& problem : problems) std::printf("  not inspected: %s\n", problem.c_str());
}

void report_error(const ScanOptions& opts, const std::string& file, const std::string& error) {
  std::fprintf(stderr, "cordon scan: %s: %s\n", file.c_str(), error.c_str());
  if (opts.format == "json")
    std::printf("%s\n", json_line({{"file", file}, {"error", error}}).c_str());
}

int scan(const ScanOptions& opts) {
  auto loaded =
      opts.config.empty() ? config::default_config() : config::load_config_file(opts.config);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 2;
  }
  auto snapshot = inspect::make_snapshot(inspect::options_from(**loaded));
  if (auto ready = inspect::warm_up(*snapshot); !ready) {
    std::fprintf(stderr, "cordon scan: %s\n", ready.error().c_str());
    return 2;
  }
  bool progress = ::isatty(STDERR_FILENO) && opts.files.size() > kProgressThreshold;
  bool any_error = false, any_violation = false;
  std::size_t done = 0;
  for (const auto& file : opts.files) {
    if (progress) std::fprintf(stderr, "\rscanned %zu/%zu files", done, opts.files.size());
    ++done;
    std::string shown = file == "-" ? "<stdin>" : file;
    auto bytes = read_input(file);
    if (!bytes) {
      any_error = true;
      report_error(opts, shown, bytes.error());
      continue;
    }
    // Attachments are expanded, so their members are scanned as components
    // of their own ("attachment:report.zip/q3/customers.xlsx").
    inspect::Inspection r = inspect::inspect(*bytes, std::nullopt, *snapshot, nullptr);
    if (r.parse_error) {
      any_error = true;
      report_error(opts, shown, "cannot parse the message: " + r.parse_error->detail);
      continue;
    }
    if (r.disposition != inspect::Disposition::inspected) {
      any_error = true;
      report_error(opts, shown, "cannot inspect the message: " + r.detail);
      continue;
    }
    any_violation = any_violation || r.verdict.violated();
    if (opts.format == "json")
      std::printf("%s\n",
                  json_line(verdict_json(shown, r.verdict, r.block_reply, r.problems)).c_str());
    else
      print_text(shown, r.verdict, r.block_reply, r.problems);
    std::fflush(stdout);
  }
  if (progress) std::fprintf(stderr, "\rscanned %zu/%zu files\n", done, opts.files.size());
  return any_error ? 2 : any_violation ? 1 : 0;
}

}  // namespace

void add_scan_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ScanOptions>();
  auto* cmd =
      app.add_subcommand("scan", "Inspect messages offline; exit 0 clean, 1 violation(s), 2 error");
  cmd->add_option("--config", opts->config,
                  "YAML configuration file (default: built-in policy pack)");
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("files", opts->files, "Message files (.eml), or - for standard input")
      ->required();
  cmd->callback([&exit_code, opts] { exit_code = scan(*opts); });
}

}  // namespace cordon::cli
