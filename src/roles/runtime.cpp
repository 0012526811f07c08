// The runtime behind `cordon run`: threads, signals, reload, role lifetime.
#include "roles/runtime.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incidents/open_store.hpp"
#include "incidents/retention.hpp"
#include "roles/factory.hpp"
#include "roles/smtp_limits.hpp"
#include "util/fs.hpp"
#include "util/privileges.hpp"

namespace cordon::roles {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(5);

RoleResult make_role(config::Role role, Shared& shared) {
  switch (role) {
    case config::Role::gateway:
      return make_gateway_role(shared);
    case config::Role::prevent:
      return make_prevent_role(shared);
    case config::Role::console:
      return make_console_role(shared);
    case config::Role::monitor:
      return make_monitor_role(shared);
    case config::Role::milter:
      return make_milter_role(shared);
  }
  return fail(std::string("unknown role"));
}

// One lock per role on data_dir (data_dir/<role>.lock): a second `cordon
// run` of the same role on the same data_dir would recover the first one's
// queue from under it (active/ back to incoming/) and drain its outbox
// twice, so it refuses to start. A gateway and a prevent in two processes
// sharing one data_dir (and so the deployment key) stay possible.
Result<std::vector<util::UniqueFd>, std::string> lock_data_dir(const config::Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return fail("cannot create data_dir " + config.data_dir + ": " + ec.message());
  std::vector<util::UniqueFd> locks;
  for (auto role : config.roles()) {
    const auto path =
        std::filesystem::path(config.data_dir) / (std::string(config::to_string(role)) + ".lock");
    auto lock = util::lock_exclusively(path);
    if (lock) {
      locks.push_back(std::move(lock).value());
      continue;
    }
    const auto& why = lock.error();
    if (why.error.err != EWOULDBLOCK) return fail(why.error.message);
    return fail("data_dir " + config.data_dir + " is in use: another cordon run" +
                (why.holder.empty() ? "" : " (pid " + why.holder + ")") + " runs the " +
                std::string(config::to_string(role)) + " role on it (it holds " + path.string() +
                "); stop it first, or give this one another data_dir");
  }
  return locks;
}

// The roles whose incidents a node keeps: a gateway alone has none.
bool keeps_incidents(const config::Config& config) {
  return config.prevent || config.milter || config.monitor || config.console;
}

using config::Config;
using ReloadDone = std::function<void(Status<std::string>)>;

constexpr std::string_view kNothingToReload = "running on the embedded default: nothing to reload";

// Reloads without stalling the I/O thread. Compiling a policy set takes
// seconds when it has many keywords (5-10 s for 20,000), and every session
// runs on the one I/O thread: so the file is read and compiled on a thread
// of its own, and only the swap of the compiled snapshot and the roles'
// reload() run on the I/O thread. Compiled databases are cached in
// data_dir, so a reload of unchanged policies skips the compile.
//
// Reloads compile one at a time in the order they were asked for, and are
// applied in that order; one that completes after a later one was applied
// (possible only beside an in-place reload on the I/O thread) is dropped.
class Reloader {
 public:
  Reloader(asio::io_context& io, std::optional<std::string> path, ConfigSnapshot& snapshot,
           util::Metrics& metrics, std::vector<std::unique_ptr<Role>>& roles)
      : io_(io),
        path_(std::move(path)),
        snapshot_(snapshot),
        started_(snapshot.get()),
        metrics_(metrics),
        roles_(roles) {}

  bool has_file() const { return path_.has_value(); }

  // Starts a reload; `done` (may be empty) gets the outcome on the I/O thread.
  void start(ReloadDone done) {
    if (!path_) {
      asio::post(io_, [done = std::move(done)] {
        if (done) done(nothing_to_reload());
      });
      return;
    }
    const std::uint64_t generation = ++requested_;
    asio::post(compiler_, [this, generation, done = std::move(done)]() mutable {
      auto loaded = load();
      asio::post(io_, [this, generation, loaded = std::move(loaded), done = std::move(done)] {
        auto outcome = apply(generation, loaded);
        if (done) done(std::move(outcome));
      });
    });
  }

  // Shared::reload.
  Status<std::string> reload_and_wait() {
    if (!path_) return nothing_to_reload();
    if (io_.get_executor().running_in_this_thread()) return apply(++requested_, load());
    auto done = std::make_shared<std::promise<Status<std::string>>>();
    auto outcome = done->get_future();
    start([done](Status<std::string> status) { done->set_value(std::move(status)); });
    try {
      return outcome.get();
    } catch (const std::future_error&) {
      return fail(std::string("cordon stopped before the reload was applied"));
    }
  }

  // Waits for a compile under way; later reloads are not started.
  void stop() {
    compiler_.stop();
    compiler_.join();
  }

 private:
  static Status<std::string> nothing_to_reload() { return fail(std::string(kNothingToReload)); }

  config::ConfigResult load() const {
    return config::load_config_file(*path_, {.cache_compiled = true});
  }

  // On the I/O thread.
  Status<std::string> apply(std::uint64_t generation, const config::ConfigResult& loaded) {
    if (!loaded) {
      auto why = loaded.error().to_string();
      spdlog::error("reload refused, the previous configuration stays in force: {}", why);
      metrics_.counter("cordon_config_reloads_total", "Configuration reloads", "result=\"refused\"")
          .inc();
      return fail(why);
    }
    if (generation < applied_) {
      spdlog::info("configuration read from {} dropped: a later reload is in force", *path_);
      return Ok{};
    }
    applied_ = generation;
    snapshot_.set(*loaded);
    for (auto& role : roles_) role->reload(*loaded);
    metrics_.counter("cordon_config_reloads_total", "Configuration reloads", "result=\"ok\"").inc();
    const Config& next = **loaded;
    spdlog::info(
        "configuration reloaded from {}: applied {} policies, filters, block_reply, next_hop, "
        "mime and attachment limits, on_unscannable, and the gateway's relay, DLP, delivery and "
        "retry settings, for sessions and queue attempts that start from now on",
        *path_, next.policies.size());
    // Compared with what the process started with: a change a reload
    // cannot apply stays pending however many reloads follow.
    const auto pending = config::changes_needing_restart(*started_, next);
    for (const auto& change : pending)
      spdlog::warn(
          "reload: {}: needs a restart to take effect (the value in force is the one "
          "cordon started with)",
          change);
    if (pending.empty()) spdlog::info("reload: nothing in the new configuration needs a restart");
    for (const auto& warning : next.warnings()) spdlog::warn("{}: {}", *path_, warning);
    return Ok{};
  }

  asio::io_context& io_;
  const std::optional<std::string> path_;
  ConfigSnapshot& snapshot_;
  const std::shared_ptr<const config::Config> started_;  // what listeners were built from
  util::Metrics& metrics_;
  std::vector<std::unique_ptr<Role>>& roles_;
  std::atomic<std::uint64_t> requested_{0};
  std::uint64_t applied_ = 0;  // I/O thread only
  // Last: destroyed (joined) first, while the members its jobs use live.
  asio::thread_pool compiler_{1};
};

}  // namespace

Status<std::string> begin_run_as(const config::Config& config) {
  if (config.run_as.empty()) return Ok{};
  auto user = util::lookup_user(config.run_as);
  if (!user) return fail("run_as: " + user.error());
  if (user->uid == 0)
    return fail("run_as: " + user->name + " is root; remove run_as to run as root");
  if (::geteuid() == 0) {
    if (auto fds = ensure_fd_limit(config); !fds) return fds;
    // Ports below 1024 for every listener; a live capture's raw socket and
    // promiscuous mode for the monitor.
    std::vector<int> keep{CAP_NET_BIND_SERVICE};
    if (config.monitor) keep.insert(keep.end(), {CAP_NET_RAW, CAP_NET_ADMIN});
    if (auto became = util::assume_user(*user, keep); !became)
      return fail("run_as: cannot become " + user->name + ": " + became.error());
  } else if (::getuid() != user->uid || ::geteuid() != user->uid) {
    return fail("run_as: " + user->name + " (uid " + std::to_string(user->uid) +
                ") needs cordon started as root; it runs as uid " + std::to_string(::geteuid()));
  }
  return util::check_data_dir_for(config.data_dir, *user);
}

int run(std::shared_ptr<const config::Config> config, std::optional<std::string> config_path) {
  if (::geteuid() == 0 && !config->run_as.empty()) {
    if (auto became = begin_run_as(*config); !became) {
      spdlog::error("cannot start: {}", became.error());
      return 2;
    }
  }
  if (auto fds = ensure_fd_limit(*config); !fds) {
    spdlog::error("cannot start: {}", fds.error());
    return 2;
  }
  auto locks = lock_data_dir(*config);
  if (!locks) {
    spdlog::error("cannot start: {}", locks.error());
    return 2;
  }
  asio::io_context io(1);
  // More threads than cores: an inspection thread also waits for the
  // incident store's durable write (an fsync'd commit) before the block
  // reply can name the incident, and the gateway's spool fsyncs run here
  // too. With one thread per core those waits idle the CPU; at eight per
  // core a shared PostgreSQL takes 2-3x more blocked messages per second
  // (bench/incidents/prevent_bench.py), and at most that many messages
  // are scanned at once.
  const unsigned worker_count = 8 * std::max(1u, std::thread::hardware_concurrency());
  asio::thread_pool workers(worker_count);
  ConfigSnapshot snapshot(config);
  util::Metrics metrics;
  std::vector<std::unique_ptr<Role>> roles;

  Reloader reloader(io, config_path, snapshot, metrics, roles);
  std::shared_ptr<incidents::IncidentStore> store;  // opened on first use (I/O thread)
  auto open_store = [&]() -> Result<std::shared_ptr<incidents::IncidentStore>, std::string> {
    if (store) return store;
    auto opened = incidents::open_mail_path_store(config->incidents, config->data_dir, metrics);
    if (!opened) return fail(opened.error().message);
    store = std::move(opened).value();
    return store;
  };
  Shared shared{io,
                workers,
                snapshot,
                metrics,
                [&reloader] { return reloader.reload_and_wait(); },
                reloader.has_file() ? std::string() : std::string(kNothingToReload),
                open_store};

  for (auto role : config->roles()) {
    auto made = make_role(role, shared);
    if (!made) {
      spdlog::error("cannot start role {}: {}", config::to_string(role), made.error());
      return 2;
    }
    if (!*made) {
      spdlog::warn("role {} is not part of this build; running without it",
                   config::to_string(role));
      continue;
    }
    roles.push_back(std::move(made).value());
  }
  for (auto& role : roles) {
    auto started = role->start();
    if (!started) {
      spdlog::error("cannot start role {}: {}", role->name(), started.error());
      return 2;
    }
  }
  if (roles.empty()) {
    spdlog::error("the configuration names no role (gateway, prevent, monitor, milter, console)");
    return 2;
  }
  // Listeners are bound and captures open: no privilege is needed from here
  // on, and a drop that does not happen fully stops cordon.
  if (auto dropped = util::finish_run_as(config->run_as); !dropped) {
    spdlog::error("cannot start: {}", dropped.error());
    return 2;
  }

  // The retention in force is read at each run: a reload that changes it
  // applies from the next one.
  std::optional<incidents::RetentionPurger> purger;
  if (keeps_incidents(*config)) {
    purger.emplace(
        io, workers, [&snapshot] { return snapshot.get()->incidents_retention; }, open_store,
        metrics);
    purger->start();
  }

  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_stop = [&] {
    stop_signals.async_wait([&](std::error_code ec, int signo) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", signo);
      if (purger) purger->stop();
      for (auto& role : roles) role->shutdown();
      // Sessions get up to the grace period to answer 421 and finish; the
      // loop ends as soon as no role has work in flight.
      const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
      auto poll = std::make_shared<asio::steady_timer>(io);
      auto check = std::make_shared<std::function<void()>>();
      *check = [&io, &roles, deadline, poll, check] {
        const bool busy =
            std::any_of(roles.begin(), roles.end(), [](const auto& role) { return role->busy(); });
        if (!busy || std::chrono::steady_clock::now() >= deadline) {
          io.stop();
          *check = nullptr;  // break the self-reference
          return;
        }
        poll->expires_after(std::chrono::milliseconds(50));
        poll->async_wait([check](std::error_code) {
          if (*check) (*check)();
        });
      };
      (*check)();
    });
  };
  wait_stop();
  asio::signal_set hup(io, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      if (reloader.has_file()) {
        spdlog::info("SIGHUP: reloading configuration");
        reloader.start({});
      } else {
        spdlog::info(
            "SIGHUP: running the embedded default (no --config): nothing to reload; restart "
            "with --config FILE to change the configuration");
      }
      wait_hup();
    });
  };
  wait_hup();

  spdlog::info("cordon running: {} role(s), {} worker thread(s)", roles.size(), worker_count);
  io.run();
  reloader.stop();
  workers.join();
  roles.clear();
  return 0;
}

}  // namespace cordon::roles
