// The parts of `cordon edm index` and `cordon idm index` that are the same
// (see index_command.hpp).
#include "cli/index_command.hpp"

#include "util/fs.hpp"

namespace cordon::cli {

CLI::App* add_index_subcommand(CLI::App& app, const IndexCommandKind& kind,
                               std::string_view description, std::string_view index_description,
                               IndexArgs& args) {
  auto* parent = app.add_subcommand(std::string(kind.section), std::string(description));
  parent->require_subcommand(1);
  auto* index = parent->add_subcommand("index", std::string(index_description));
  index->add_option("--config", args.config, "YAML configuration naming the profile")->required();
  index
      ->add_option("--profile", args.profile,
                   "the profile (" + std::string(kind.section) + ".profiles[].name)")
      ->required();
  return index;
}

std::shared_ptr<const config::Config> read_index_config(const std::string& path) {
  auto text = util::read_file(path);
  if (!text) {
    std::fprintf(stderr, "%s: error: cannot read the file: %s\n", path.c_str(),
                 text.error().message.c_str());
    return nullptr;
  }
  auto parsed = config::parse_config_text(*text, path);
  if (!parsed) {
    std::fprintf(stderr, "%s\n", parsed.error().to_string().c_str());
    return nullptr;
  }
  return *parsed;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace cordon::cli
