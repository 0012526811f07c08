// Finding the data_dir of read-only subcommands (see data_dir.hpp).
#include "cli/data_dir.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.hpp"

namespace cordon::cli {

namespace {

// Structure and values only: listing must not need the detection engine.
config::ConfigResult read_structure(const std::string& config_path) {
  if (config_path.empty())
    return config::parse_config_text(config::default_config_yaml(), "<embedded default>");
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return fail(config::ConfigError{config_path, 0, 0, "cannot read the file"});
  std::ostringstream text;
  text << in.rdbuf();
  return config::parse_config_text(text.str(), config_path);
}

// `dir` when it is a directory, else the error naming it and where it came from.
Result<std::string, std::string> checked_dir(const std::string& dir,
                                             const std::string& config_path) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return dir;
  const std::string source = config_path.empty() ? "the embedded default" : config_path;
  std::string message = "the data directory " + dir;
  if (std::filesystem::path(dir).is_relative()) {
    auto absolute = std::filesystem::absolute(dir, ec);
    if (!ec) message += " (" + absolute.lexically_normal().string() + ")";
  }
  message += std::filesystem::exists(dir, ec) ? " is not a directory" : " does not exist";
  message += " (data_dir of " + source + ")";
  if (std::filesystem::path(dir).is_relative())
    message +=
        "; a relative data_dir is relative to the current directory: run this where cordon "
        "runs, or write data_dir as an absolute path";
  return fail(message);
}

}  // namespace

Result<std::string, std::string> existing_data_dir(const std::string& config_path) {
  auto config = read_structure(config_path);
  if (!config) return fail(config.error().to_string());
  return checked_dir((*config)->data_dir, config_path);
}

Result<StoreSetting, std::string> store_setting(const std::string& config_path) {
  auto config = read_structure(config_path);
  if (!config) return fail(config.error().to_string());
  StoreSetting setting{(*config)->data_dir, (*config)->incidents};
  // A shared PostgreSQL store needs no local directory.
  if (setting.incidents == "sqlite") {
    auto dir = checked_dir(setting.data_dir, config_path);
    if (!dir) return fail(dir.error());
  }
  return setting;
}

}  // namespace cordon::cli
