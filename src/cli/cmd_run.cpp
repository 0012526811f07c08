// `cordon run`: load the configuration (or the embedded default) and start
// the roles it names until SIGTERM/SIGINT; SIGHUP reloads.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "roles/runtime.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"

namespace cordon::cli {

void add_run_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config;
    std::string log_format;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("run", "Start the roles the config names (no --config: embedded default)");
  cmd->add_option("--config", opts->config, "YAML configuration file");
  cmd->add_option("--log-format", opts->log_format, "Log format, overrides log.format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&exit_code, opts] {
    // run_as: the user is taken before the configuration is loaded for
    // good, since loading it writes the compiled-policy cache into data_dir
    // (a cheap parse first reads run_as; its errors the full load reports).
    if (!opts->config.empty()) {
      if (auto text = util::read_file(opts->config)) {
        auto parsed = config::parse_config_text(*text, opts->config);
        if (parsed && !(*parsed)->run_as.empty()) {
          if (auto became = roles::begin_run_as(**parsed); !became) {
            std::fprintf(stderr, "cannot start: %s\n", became.error().c_str());
            exit_code = 2;
            return;
          }
        }
      }
    }
    const config::LoadOptions load{.cache_compiled = true};
    auto loaded = opts->config.empty() ? config::default_config(load)
                                       : config::load_config_file(opts->config, load);
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
      exit_code = 2;
      return;
    }
    auto config = *loaded;
    auto format = config->log.format;
    if (opts->log_format == "json") format = util::LogFormat::json;
    if (opts->log_format == "text") format = util::LogFormat::text;
    util::setup_logging(format, config->log.level);
    // Over a file-size limit (RLIMIT_FSIZE) a write then fails with EFBIG,
    // which the queue handles as a full disk, instead of the signal killing
    // the process (Postfix ignores it for the same reason).
    std::signal(SIGXFSZ, SIG_IGN);
    if (opts->config.empty()) spdlog::info("no --config given: running the embedded default");
    for (const auto& warning : config->warnings()) spdlog::warn("{}: {}", config->source, warning);
    exit_code = roles::run(
        config, opts->config.empty() ? std::nullopt : std::optional<std::string>(opts->config));
  });
}

}  // namespace cordon::cli
