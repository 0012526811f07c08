// `cordon incidents`: list recorded incidents from the store the
// configuration names (<data_dir>/incidents.db, or the shared PostgreSQL of
// `incidents: postgresql://...`) as a text table or as the JSON array of
// docs/formats.md. A SQLite database that does not exist yet simply holds no
// incidents; a data_dir that does not exist is an error (see data_dir.hpp).
// `cordon incidents purge --older-than 90d` deletes what the retention
// purge of `cordon run` would (incidents last seen before then).
#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/data_dir.hpp"
#include "config/common.hpp"
#include "incidents/json.hpp"
#include "incidents/open_store.hpp"

namespace cordon::cli {
namespace {

namespace inc = cordon::incidents;

struct Options {
  std::string config;
  std::string format = "text";
  std::size_t limit = 0;
  std::string search;
};

std::string clip(std::string s, std::size_t width) {
  if (s.size() > width) s = s.substr(0, width - 3) + "...";
  return s;
}

void print_table(const std::vector<inc::Incident>& incidents) {
  if (incidents.empty()) {
    std::printf("no incidents\n");
    return;
  }
  std::printf("%-8s %-20s %-8s %-8s %-14s %7s  %-28s %-28s %s\n", "ID", "TIME", "SEVERITY",
              "ACTION", "STATUS", "REPEATS", "SENDER", "POLICIES", "SUBJECT");
  for (const auto& i : incidents) {
    std::string policies;
    for (const auto& p : i.policies) policies += (policies.empty() ? "" : ", ") + p.name;
    std::printf(
        "%-8lld %-20s %-8s %-8s %-14s %7lld  %-28s %-28s %s\n", static_cast<long long>(i.id),
        inc::format_rfc3339(i.time).c_str(), std::string(inc::to_string(i.max_severity())).c_str(),
        std::string(inc::to_string(i.action)).c_str(),
        std::string(inc::to_string(i.status)).c_str(), static_cast<long long>(i.repeat_count),
        clip(i.sender, 28).c_str(), clip(policies, 28).c_str(), clip(i.subject, 60).c_str());
  }
}

int list_incidents(const Options& opts) {
  auto setting = store_setting(opts.config);
  if (!setting) {
    std::fprintf(stderr, "cordon: %s\n", setting.error().c_str());
    return 2;
  }
  const std::string& spec = setting->incidents;
  const std::filesystem::path db = inc::sqlite_path(setting->data_dir);
  std::vector<inc::Incident> incidents;
  std::error_code ec;
  if (inc::is_postgres_url(spec) || std::filesystem::exists(db, ec)) {
    auto store = inc::open_store(spec, setting->data_dir);
    if (!store) {
      std::fprintf(stderr, "cordon: %s\n", store.error().message.c_str());
      return 2;
    }
    inc::IncidentQuery query;
    query.limit = opts.limit;
    if (!opts.search.empty()) query.text = opts.search;
    auto listed = store.value()->list(query);
    if (!listed) {
      std::fprintf(stderr, "cordon: incidents: %s\n", listed.error().message.c_str());
      return 2;
    }
    incidents = std::move(listed).value();
  }
  if (opts.format == "json") {
    const auto json = inc::to_json(incidents);
    std::printf("%s\n", json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    print_table(incidents);
  }
  return 0;
}

int purge_incidents(const std::string& config_path, const std::string& older_than) {
  auto age = config::parse_duration(older_than);
  if (!age || age->count() == 0) {
    std::fprintf(stderr, "cordon: --older-than: %s\n", age ? "must not be 0" : age.error().c_str());
    return 2;
  }
  auto setting = store_setting(config_path);
  if (!setting) {
    std::fprintf(stderr, "cordon: %s\n", setting.error().c_str());
    return 2;
  }
  const auto cutoff = std::chrono::time_point_cast<inc::Clock::duration>(inc::Clock::now() - *age);
  std::error_code ec;
  if (!inc::is_postgres_url(setting->incidents) &&
      !std::filesystem::exists(inc::sqlite_path(setting->data_dir), ec)) {
    std::printf("purged 0 incidents last seen before %s\n", inc::format_rfc3339(cutoff).c_str());
    return 0;
  }
  auto store = inc::open_store(setting->incidents, setting->data_dir);
  if (!store) {
    std::fprintf(stderr, "cordon: %s\n", store.error().message.c_str());
    return 2;
  }
  auto purged = store.value()->purge(cutoff);
  if (!purged) {
    std::fprintf(stderr, "cordon: incidents purge: %s\n", purged.error().message.c_str());
    return 2;
  }
  std::printf("purged %lld incidents last seen before %s\n", static_cast<long long>(*purged),
              inc::format_rfc3339(cutoff).c_str());
  return 0;
}

}  // namespace

void add_incidents_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("incidents", "List recorded incidents (newest first)");
  cmd->add_option("--config", opts->config, "YAML configuration file");
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--limit", opts->limit, "Show at most this many (0: all)");
  cmd->add_option("--search", opts->search,
                  "Only incidents whose subject, sender or recipients contain this text");
  struct PurgeOptions {
    std::string config;
    std::string older_than;
  };
  auto purge_opts = std::make_shared<PurgeOptions>();
  auto* purge = cmd->add_subcommand(
      "purge", "Delete incidents (and their history) last seen longer ago than --older-than");
  purge->add_option("--config", purge_opts->config, "YAML configuration file");
  purge->add_option("--older-than", purge_opts->older_than, "Age, e.g. 90d or 2160h")->required();
  purge->callback([&exit_code, purge_opts] {
    exit_code = purge_incidents(purge_opts->config, purge_opts->older_than);
  });
  cmd->callback([&exit_code, opts, purge] {
    if (purge->parsed()) return;  // `incidents purge`: its own callback ran
    exit_code = list_incidents(*opts);
  });
}

}  // namespace cordon::cli
