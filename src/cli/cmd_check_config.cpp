// `cordon check-config`: validate a configuration file the way `cordon run`
// would load it (every policy rule compiled), print a one-line summary (and
// `file: warning: ...` lines on standard error) and exit 0, or print every
// `file:line:col: error: ...` on standard error and exit 2.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "incidents/open_store.hpp"
#include "smtp/reply_builder.hpp"
#include "smtp/server.hpp"

namespace cordon::cli {
namespace {

int check_config(const std::string& file) {
  auto loaded = config::load_config_file(file);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 2;
  }
  const config::Config& config = **loaded;
  // The URL is parsed as libpq would parse it; the database is not contacted
  // (the node that checks need not reach it).
  if (auto bad = incidents::check_store_spec(config.incidents)) {
    config::ConfigError e{file, config.incidents_mark.line, config.incidents_mark.col,
                          "incidents: " + *bad};
    std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 2;
  }
  if (config.prevent) {
    // The reply builder owns the rules for a conformant reply; ask it now
    // rather than fail on the first blocked message.
    const auto& b = config.prevent->block_reply;
    auto valid = smtp::validate({b.code, b.enhanced, b.max_line_bytes, b.max_reply_bytes});
    if (!valid) {
      config::ConfigError e{file, b.mark.line, b.mark.col,
                            "prevent.block_reply: " + std::string(smtp::describe(valid.error()))};
      std::fprintf(stderr, "%s\n", e.to_string().c_str());
      return 2;
    }
  }
  // A certificate and a key that do not belong together (or cannot be
  // read by OpenSSL) stop `cordon run` at start: say it now.
  auto check_pair = [&](std::string_view section, const std::string& cert, const std::string& key,
                        config::SourceMark mark) {
    if (cert.empty()) return true;
    auto loaded = smtp::make_server_tls_context(cert, key);
    if (loaded) return true;
    config::ConfigError e{file, mark.line, mark.col,
                          std::string(section) + ".tls_cert: " + loaded.error()};
    std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return false;
  };
  bool tls_ok = true;
  if (config.gateway)
    tls_ok &= check_pair("gateway", config.gateway->tls.cert, config.gateway->tls.key,
                         config.gateway->tls.mark);
  if (config.prevent)
    tls_ok &= check_pair("prevent", config.prevent->tls.cert, config.prevent->tls.key,
                         config.prevent->tls.mark);
  if (config.console)
    tls_ok &= check_pair("console", config.console->tls_cert, config.console->tls_key,
                         config.console->tls_mark);
  if (!tls_ok) return 2;
  std::string roles;
  for (auto role : config.roles()) {
    if (!roles.empty()) roles += ", ";
    roles += config::to_string(role);
  }
  // Valid, but almost certainly not meant: said on standard error, exit 0.
  for (const auto& warning : config.warnings())
    std::fprintf(stderr, "%s: warning: %s\n", file.c_str(), warning.c_str());
  std::size_t n = config.policies.size();
  std::string builtin;
  if (config.include_builtin_policies) builtin = " (built-in pack included)";
  std::printf("ok: %zu %s%s, roles %s\n", n, n == 1 ? "policy" : "policies", builtin.c_str(),
              roles.empty() ? "none" : roles.c_str());
  return 0;
}

}  // namespace

void add_check_config_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "check-config",
      "Validate a configuration; exit 0, or 2 with file:line:col and what is wrong");
  cmd->add_option("file", *file, "YAML configuration file")->required();
  cmd->callback([&exit_code, file] { exit_code = check_config(*file); });
}

}  // namespace cordon::cli
