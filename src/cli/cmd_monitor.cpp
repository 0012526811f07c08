// `cordon monitor --pcap FILE`: analyse a capture offline as the monitor
// role would, and print one record per SMTP message seen (--format json:
// one JSON object per line, docs/formats.md).
//
// The configuration's `monitor:` section gives the ports, the ip_filter,
// the L7 filters and the limits (no section: ports 25 and 587, no filters);
// --port replaces the ports. Offline analysis records no incident unless
// --record is given: then incidents go to <data_dir>/incidents.db with the
// action "monitored", de-duplicated as the role's are.
//
// Exit status: 2 if the capture cannot be read, the configuration is bad
// or a message could not be judged; else 1 if any inspected message
// violated a policy; else 0. Encrypted sessions and messages with gaps are
// reported in their records and do not change the exit status.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "capture/source.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "incidents/sqlite_store.hpp"
#include "monitor/monitor.hpp"

namespace cordon::cli {
namespace {

struct MonitorOptions {
  std::string pcap;
  std::string config;
  std::string format = "text";
  std::vector<std::uint16_t> ports;
  bool record = false;
  bool no_cache = false;
  bool stats = false;
  std::string save;  // directory for each message's content
};

std::string json_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_monitor(const MonitorOptions& opts) {
  config::LoadOptions load;
  if (!opts.no_cache) load.cache_dir = compiled_cache_dir();
  auto loaded = opts.config.empty() ? config::default_config(load)
                                    : config::load_config_file(opts.config, load);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 2;
  }
  const config::Config& cfg = **loaded;
  config::MonitorConfig section = cfg.monitor ? *cfg.monitor : config::MonitorConfig{};
  if (!opts.ports.empty()) section.ports = opts.ports;

  auto snapshot = monitor::make_snapshot(cfg);
  if (auto ready = inspect::warm_up(*snapshot); !ready) {
    std::fprintf(stderr, "cordon monitor: %s\n", ready.error().c_str());
    return 2;
  }
  std::unique_ptr<incidents::IncidentStore> store;
  if (opts.record) {
    const std::string db = (std::filesystem::path(cfg.data_dir) / "incidents.db").string();
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    auto opened = incidents::SqliteIncidentStore::open(db);
    if (!opened) {
      std::fprintf(stderr, "cordon monitor: incident store %s: %s\n", db.c_str(),
                   opened.error().message.c_str());
      return 2;
    }
    store = std::move(opened).value();
  }

  capture::SourceOptions source_options;
  source_options.name = opts.pcap;
  source_options.ports = section.ports;
  if (!capture::is_capture_file(opts.pcap)) {
    std::fprintf(stderr, "cordon monitor: %s: not a capture file\n", opts.pcap.c_str());
    return 2;
  }
  auto source = capture::Source::open(source_options);
  if (!source) {
    std::fprintf(stderr, "cordon monitor: %s\n", source.error().c_str());
    return 2;
  }

  bool any_error = false, any_violation = false;
  std::size_t count = 0;
  auto on_message = [&](monitor::SeenMessage&& seen) {
    monitor::Record r = monitor::judge(std::move(seen), *snapshot, store.get());
    ++count;
    if (!opts.save.empty() && !r.seen.message.encrypted) {
      const auto path = std::filesystem::path(opts.save) / (std::to_string(count) + ".eml");
      std::FILE* f = std::fopen(path.c_str(), "wb");
      const auto& content = r.seen.message.content;
      if (!f || std::fwrite(content.data(), 1, content.size(), f) != content.size()) {
        std::fprintf(stderr, "cordon monitor: cannot write %s\n", path.c_str());
        any_error = true;
      }
      if (f) std::fclose(f);
    }
    if (!r.error.empty() && !r.inspected) any_error = true;
    if (r.inspected && r.verdict.violated()) any_violation = true;
    if (opts.format == "json")
      std::printf("%s\n", json_line(monitor::to_json(r)).c_str());
    else
      std::printf("%s\n", monitor::to_text(r).c_str());
  };
  const auto run =
      monitor::run_capture(**source, monitor::engine_options(section), on_message, nullptr);
  std::fflush(stdout);
  const auto& s = run.stats;
  if (opts.stats)
    std::fprintf(
        stderr,
        "cordon monitor: %llu packets, %llu bytes, %llu sessions, %llu messages, %llu gaps "
        "(%llu bytes), %llu undecodable, %llu conflicting bytes, %llu encrypted\n",
        (unsigned long long)s.capture.packets, (unsigned long long)s.capture.bytes,
        (unsigned long long)s.capture.connections, (unsigned long long)s.messages,
        (unsigned long long)s.capture.gaps, (unsigned long long)s.capture.gap_bytes,
        (unsigned long long)s.capture.undecodable, (unsigned long long)s.capture.conflicting_bytes,
        (unsigned long long)s.encrypted_sessions);
  if (!run.read) {
    // A capture cut short: what was read is reported, the exit says error.
    std::fprintf(stderr, "cordon monitor: %s: %s\n", opts.pcap.c_str(), run.read.error().c_str());
    return 2;
  }
  return any_error ? 2 : any_violation ? 1 : 0;
}

}  // namespace

void add_monitor_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<MonitorOptions>();
  auto* cmd = app.add_subcommand(
      "monitor", "Analyse a capture offline as the monitor role would; exit 0 / 1 / 2 as scan");
  cmd->add_option("--pcap", opts->pcap, "Capture file (pcap or pcapng)")->required();
  cmd->add_option("--config", opts->config,
                  "YAML configuration file (default: built-in policy pack)");
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--port", opts->ports,
                  "SMTP server port to follow (repeatable; default monitor.ports)")
      ->check(CLI::Range(1, 65535));
  cmd->add_flag("--record", opts->record,
                "Record incidents in <data_dir>/incidents.db (action \"monitored\")");
  cmd->add_option("--save", opts->save,
                  "Write each message's content to DIR/N.eml (N: its record's position, from 1)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--stats", opts->stats, "Print capture statistics on standard error");
  cmd->add_flag("--no-cache", opts->no_cache, "Do not keep compiled policies in the user's cache");
  cmd->callback([&exit_code, opts] { exit_code = run_monitor(*opts); });
}

}  // namespace cordon::cli
