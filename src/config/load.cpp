// Loading a configuration end to end: read the file, parse it, and compile
// every policy rule into the snapshot's detection database, so that a
// configuration that loads is one that runs.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "policy/policy_set.hpp"

namespace cordon::config {

ConfigResult load_config_text(std::string_view yaml, const std::string& file_name,
                              const LoadOptions& options) {
  auto parsed = parse_config_text(yaml, file_name);
  if (!parsed) return parsed;
  auto config = std::make_shared<Config>(**parsed);
  std::optional<std::filesystem::path> cache_dir;
  if (options.cache_dir)
    cache_dir = std::filesystem::path(*options.cache_dir);
  else if (options.cache_compiled)
    cache_dir = std::filesystem::path(config->data_dir) / "detect-cache";
  auto set = policy::PolicySet::build(config->policies, file_name, cache_dir,
                                      config->on_unscannable, config->edm, config->idm);
  if (!set) return fail(set.error());
  config->policy_set = std::move(*set);
  return std::shared_ptr<const Config>(std::move(config));
}

ConfigResult load_config_file(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return fail(ConfigError{path, 0, 0, "cannot read the file: it is a directory"});
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(
        ConfigError{path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(ConfigError{path, 0, 0, "cannot read the file"});
  return load_config_text(text.str(), path, options);
}

ConfigResult default_config(const LoadOptions& options) {
  return load_config_text(default_config_yaml(), "<embedded default>", options);
}

}  // namespace cordon::config
