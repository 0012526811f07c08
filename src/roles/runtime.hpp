// The runtime that `cordon run` starts: one I/O thread running every
// listener's sessions (prevent beside another mail-path role gets one of
// its own where there is a second core, see role_thread.hpp), a worker
// pool for CPU-heavy inspection, the current
// configuration snapshot (swapped atomically on reload), the metrics
// registry, and the roles the configuration names. Roles only wire
// components together; they get everything they share through Shared.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>

#include "config/config.hpp"
#include "incidents/store.hpp"
#include "util/current.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"

namespace cordon::roles {

// The configuration in force. A session takes one snapshot when it starts
// and keeps it; a reload replaces the pointer for sessions that start later.
using ConfigSnapshot = util::Current<config::Config>;

// What every role is given.
struct Shared {
  asio::io_context& io;        // sessions, timers: one thread (the role's own, or the common one)
  asio::thread_pool& workers;  // parsing and scanning
  ConfigSnapshot& config;
  util::Metrics& metrics;
  // Re-reads the configuration file and applies it (what SIGHUP does);
  // returns the error text when the new configuration is refused. The file
  // is read and its policies compiled on a thread of their own, then the
  // snapshot is swapped and every Role::reload runs on the I/O thread;
  // this waits until then. Called on the I/O thread it cannot wait there
  // without stalling every session, so it then does the whole reload in
  // place, compile included: call it from another thread.
  std::function<Status<std::string>()> reload;
  // Why `reload` can never succeed in this process (it runs on the embedded
  // default, with no file to re-read); empty when it can.
  std::string reload_unavailable;
  // The incident store of the mail-path roles (incidents::open_mail_path_store),
  // opened by the first role that asks and shared by the others.
  std::function<Result<std::shared_ptr<incidents::IncidentStore>, std::string>()> incident_store;
};

class Role {
 public:
  virtual ~Role() = default;
  virtual std::string_view name() const = 0;
  // Binds listeners and starts work; an error (e.g. address in use) stops
  // `cordon run` with that message.
  virtual Status<std::string> start() = 0;
  // A new configuration is in force (the snapshot is already swapped).
  // Listen addresses are read at start only; a change needs a restart.
  virtual void reload(const std::shared_ptr<const config::Config>& /*config*/) {}
  // Graceful stop: close listeners, let sessions answer 421 and finish.
  virtual void shutdown() = 0;
  // After shutdown(): true while the role still has work in flight. The
  // runtime waits (at most its grace period) until no role is busy. A role
  // that cannot tell stays busy, so it gets the whole grace period.
  virtual bool busy() const { return true; }
};

using RoleResult = Result<std::unique_ptr<Role>, std::string>;

// `run_as: USER` with cordon started as root: raises the descriptor limit
// (ensure_fd_limit) while still root, then becomes USER but for the
// capabilities the roles' start needs (ports below 1024, a live capture),
// and checks that USER owns data_dir. Everything cordon then writes is
// USER's. Call it before anything reads or writes data_dir (loading a
// configuration writes its compiled-policy cache there) and before any
// thread starts; run() drops the kept capabilities and the saved root uid
// once the roles have started, and calls this itself if it was not called.
// Nothing to do without run_as, or when already running as USER.
Status<std::string> begin_run_as(const config::Config& config);

// Runs until SIGTERM or SIGINT (graceful) with SIGHUP reloading
// `config_path` (when given). Returns the process exit code.
int run(std::shared_ptr<const config::Config> config, std::optional<std::string> config_path);

}  // namespace cordon::roles
