// What `cordon edm index` and `cordon idm index` share: the subcommand and
// its --config and --profile options, the configuration read for its
// structure only (the index it names need not exist yet), the profile
// looked up by name, the key file loaded or created, and the time taken.
// Each step prints its own error; a failed step means exit status 2.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/siphash.hpp"

namespace cordon::cli {

// The options every index command has.
struct IndexArgs {
  std::string config;
  std::string profile;
};

// What an index is of, as the command line names it.
struct IndexCommandKind {
  std::string_view section;  // "edm": the configuration section, the subcommand
  std::string_view name;     // "EDM": in messages
};

// Registers `cordon SECTION index`, with --config and --profile into
// `args`, under a new `cordon SECTION` subcommand of `app`; the caller adds
// the inputs and the callback.
CLI::App* add_index_subcommand(CLI::App& app, const IndexCommandKind& kind,
                               std::string_view description, std::string_view index_description,
                               IndexArgs& args);

// The configuration at `path`, parsed and checked but not compiled; null
// after printing why not.
std::shared_ptr<const config::Config> read_index_config(const std::string& path);

// The profile `args.profile` of `settings` (edm or idm); null after
// printing the profiles there are.
template <class Settings>
auto find_index_profile(const Settings& settings, const IndexCommandKind& kind,
                        const IndexArgs& args) -> decltype(settings.find(args.profile)) {
  auto* profile = settings.find(args.profile);
  if (!profile) {
    std::string names;
    for (const auto& p : settings.profiles) names += (names.empty() ? "" : ", ") + p.name;
    std::fprintf(stderr, "%s: error: no %.*s profile '%s' in %.*s.profiles (%s)\n",
                 args.config.c_str(), static_cast<int>(kind.name.size()), kind.name.data(),
                 args.profile.c_str(), static_cast<int>(kind.section.size()), kind.section.data(),
                 names.empty() ? "none defined" : names.c_str());
  }
  return profile;
}

// The key in `key_file`, created by `load_or_create` (the kind's
// load_or_create_key) the first time, which is said; nothing after
// printing why not.
template <class LoadOrCreate>
std::optional<util::SipKey> index_key(LoadOrCreate load_or_create, const IndexCommandKind& kind,
                                      const std::string& key_file) {
  bool created = false;
  auto key = load_or_create(key_file, &created);
  if (!key) {
    std::fprintf(stderr, "error: %s\n", key.error().message.c_str());
    return std::nullopt;
  }
  if (created)
    std::fprintf(stderr, "created the %.*s key %s (mode 0600)\n",
                 static_cast<int>(kind.name.size()), kind.name.data(), key_file.c_str());
  return *key;
}

// Seconds since `start`, for the summary line.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace cordon::cli
