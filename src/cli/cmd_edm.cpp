// `cordon edm index --config FILE --profile NAME DATA.csv`: builds an EDM
// profile's index (keyed hashes only) from a CSV with a header row, creating
// the key file (0600) the first time. The configuration is read for its
// structure only: the index it names need not exist yet.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/index_command.hpp"
#include "detect/edm.hpp"

namespace cordon::cli {
namespace {

constexpr IndexCommandKind kKind{"edm", "EDM"};

struct EdmIndexArgs : IndexArgs {
  std::string csv;
};

int edm_index(const EdmIndexArgs& args) {
  auto config = read_index_config(args.config);
  if (!config) return 2;
  const auto& edm = config->edm;
  const policy::EdmProfile* profile = find_index_profile(edm, kKind, args);
  if (!profile) return 2;
  auto key = index_key(detect::edm::load_or_create_key, kKind, edm.key_file);
  if (!key) return 2;
  auto start = std::chrono::steady_clock::now();
  auto stats = detect::edm::build_index(args.csv, profile->columns, *key, profile->index);
  if (!stats) {
    std::fprintf(stderr, "error: %s\n", stats.error().message.c_str());
    return 2;
  }
  const double seconds = seconds_since(start);
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
  auto args = std::make_shared<EdmIndexArgs>();
  auto* index = add_index_subcommand(
      app, kKind, "Exact Data Match: index a table of sensitive records",
      "Build an EDM profile's index (keyed hashes only) from a CSV with a header row", *args);
  index->add_option("csv", args->csv, "the table: CSV with a header row")->required();
  index->callback([&exit_code, args] { exit_code = edm_index(*args); });
}

}  // namespace cordon::cli
