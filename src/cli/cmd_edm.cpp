// `cordon edm index --config FILE --profile NAME DATA.csv`: builds an EDM
// profile's index (keyed hashes only) from a CSV with a header row, creating
// the key file (0600) the first time. The configuration is read for its
// structure only: the index it names need not exist yet.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "detect/edm.hpp"
#include "util/fs.hpp"

namespace cordon::cli {
namespace {

struct EdmIndexArgs {
  std::string config;
  std::string profile;
  std::string csv;
};

int edm_index(const EdmIndexArgs& args) {
  auto text = util::read_file(args.config);
  if (!text) {
    std::fprintf(stderr, "%s: error: cannot read the file: %s\n", args.config.c_str(),
                 text.error().message.c_str());
    return 2;
  }
  auto parsed = config::parse_config_text(*text, args.config);
  if (!parsed) {
    std::fprintf(stderr, "%s\n", parsed.error().to_string().c_str());
    return 2;
  }
  const auto& edm = (*parsed)->edm;
  const policy::EdmProfile* profile = edm.find(args.profile);
  if (!profile) {
    std::string names;
    for (const auto& p : edm.profiles) names += (names.empty() ? "" : ", ") + p.name;
    std::fprintf(stderr, "%s: error: no EDM profile '%s' in edm.profiles (%s)\n",
                 args.config.c_str(), args.profile.c_str(),
                 names.empty() ? "none defined" : names.c_str());
    return 2;
  }
  bool created = false;
  auto key = detect::edm::load_or_create_key(edm.key_file, &created);
  if (!key) {
    std::fprintf(stderr, "error: %s\n", key.error().message.c_str());
    return 2;
  }
  if (created) std::fprintf(stderr, "created the EDM key %s (mode 0600)\n", edm.key_file.c_str());
  auto start = std::chrono::steady_clock::now();
  auto stats = detect::edm::build_index(args.csv, profile->columns, *key, profile->index);
  if (!stats) {
    std::fprintf(stderr, "error: %s\n", stats.error().message.c_str());
    return 2;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "indexed %zu rows, %zu cells (%zu empty cells skipped) into %s: %zu bytes (%.2f per cell) "
      "in %.1f s\n",
      stats->rows, stats->cells, stats->empty_cells, profile->index.c_str(), stats->index_bytes,
      stats->cells ? static_cast<double>(stats->index_bytes) / static_cast<double>(stats->cells)
                   : 0.0,
      seconds);
  return 0;
}

}  // namespace

void add_edm_command(CLI::App& app, int& exit_code) {
  auto* edm = app.add_subcommand("edm", "Exact Data Match: index a table of sensitive records");
  edm->require_subcommand(1);
  auto args = std::make_shared<EdmIndexArgs>();
  auto* index = edm->add_subcommand(
      "index", "Build an EDM profile's index (keyed hashes only) from a CSV with a header row");
  index->add_option("--config", args->config, "YAML configuration naming the profile")->required();
  index->add_option("--profile", args->profile, "the profile (edm.profiles[].name)")->required();
  index->add_option("csv", args->csv, "the table: CSV with a header row")->required();
  index->callback([&exit_code, args] { exit_code = edm_index(*args); });
}

}  // namespace cordon::cli
