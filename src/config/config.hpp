// cordon's configuration model and loader: the whole YAML file as typed,
// validated values, one header per section. A loaded Config is an
// immutable snapshot shared by every role behind shared_ptr<const Config>;
// a reload loads a new one and swaps the pointer, so a session keeps the
// snapshot it began with. Components never include this header: each takes
// its own options, and each role maps its sections onto them.
//
// Every error names the file, the 1-based line and column of the offending
// YAML node, and what is wrong.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/common.hpp"
#include "config/console.hpp"
#include "config/gateway.hpp"
#include "config/log.hpp"
#include "config/milter.hpp"
#include "config/monitor.hpp"
#include "config/prevent.hpp"
#include "config/smtp.hpp"
#include "extract/extract.hpp"
#include "mime/mime.hpp"
#include "policy/model.hpp"

namespace cordon::policy {
class PolicySet;  // policy/policy_set.hpp: policies + one compiled detection database
}  // namespace cordon::policy

namespace cordon::config {

enum class Role { gateway, prevent, monitor, milter, console };
std::string_view to_string(Role role);

struct Config {
  std::string source = "<embedded>";  // file the config was read from
  std::string data_dir = "./cordon-data";
  std::string incidents = "sqlite";  // or a postgresql:// URL
  SourceMark incidents_mark{1, 1};   // where `incidents:` was written, for check-config
  // `run_as: USER`: started as root, `cordon run` binds its listeners and
  // then runs as this user (roles/runtime.cpp). Empty: stays who it is.
  std::string run_as;
  // `retention: {incidents: 180d}`: incidents last seen longer ago are
  // purged daily by `cordon run`. Zero: kept forever.
  Duration incidents_retention{0};
  std::optional<GatewayConfig> gateway;
  std::optional<PreventConfig> prevent;
  std::optional<MonitorConfig> monitor;
  std::optional<MilterConfig> milter;
  std::optional<ConsoleConfig> console;
  SmtpLimits smtp;
  mime::Limits mime;
  extract::Limits attachments;  // `attachments:` extraction limits and on_limit
  LogConfig log;
  // `include_builtin_policies: true`: the embedded default's policy pack
  // comes first in `policies`, before the file's own.
  bool include_builtin_policies = false;
  std::vector<policy::Policy> policies;
  policy::Unscannable on_unscannable;  // what content that cannot be read means
  policy::IdmSettings idm;             // `idm:` key file and profiles (indexes open in policy_set)
  policy::EdmSettings edm;             // `edm:` key file and profiles (indexes open in policy_set)
  // Compiled from `policies` by load_config_*(); null only after
  // parse_config_text(), which skips compilation.
  std::shared_ptr<const policy::PolicySet> policy_set;

  // The roles this config runs: the sections present, in a fixed order.
  std::vector<Role> roles() const;

  // What is valid but almost certainly not meant, each a sentence naming
  // the consequence (`check-config` prints them, `cordon run` logs them at
  // start and on reload): e.g. an inspecting role without any policy.
  std::vector<std::string> warnings() const;
};

using ConfigResult = Result<std::shared_ptr<const Config>, ConfigError>;

// What differs between `running` (the configuration the process started
// with) and `next` that a reload does not apply and only a restart does:
// one line per change, like "gateway.listen 127.0.0.1:2525 ->
// 127.0.0.1:2600". Empty when a reload applies all of `next`.
std::vector<std::string> changes_needing_restart(const Config& running, const Config& next);

struct LoadOptions {
  // Keep compiled detection databases in <data_dir>/detect-cache, so that a
  // start or reload with policies compiled before skips the compile (which
  // takes seconds for big keyword lists). For the long-running process;
  // one-off commands leave data_dir alone.
  bool cache_compiled = false;
  // Keep them in this directory instead (and whatever cache_compiled says):
  // for one-off commands, which cache outside data_dir.
  std::optional<std::string> cache_dir = std::nullopt;
};

// Reads, parses and fully validates a YAML file, compiling every policy
// rule (so a bad regex or an unknown identifier is reported here).
ConfigResult load_config_file(const std::string& path, const LoadOptions& options = {});

// Same as load_config_file, from text; `file_name` is used in errors.
ConfigResult load_config_text(std::string_view yaml, const std::string& file_name,
                              const LoadOptions& options = {});

// The embedded default: gateway + prevent (reflect) + console on loopback,
// SQLite incidents, Maildir delivery, and the built-in policy pack.
ConfigResult default_config(const LoadOptions& options = {});
std::string_view default_config_yaml();

// Parses and checks structure and values only; does not compile rules
// (Config::policy_set stays null). For tools that must not need the
// detection engine.
ConfigResult parse_config_text(std::string_view yaml, const std::string& file_name);

}  // namespace cordon::config
