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
#include <mutex>
#include <thread>
#include <vector>

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/reloader.hpp"
#include "incidents/open_store.hpp"
#include "incidents/retention.hpp"
#include "roles/factory.hpp"
#include "roles/role_thread.hpp"
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

  config::Reloader reloader(io, config_path, snapshot.get(), metrics,
                            [&snapshot, &roles](const std::shared_ptr<const Config>& next) {
                              snapshot.set(next);
                              for (auto& role : roles) role->reload(next);
                            });
  std::shared_ptr<incidents::IncidentStore> store;  // opened on first use (I/O thread)
  std::mutex store_mutex;  // roles on other threads (RoleThread, the purger) ask too
  auto open_store = [&]() -> Result<std::shared_ptr<incidents::IncidentStore>, std::string> {
    std::lock_guard lock(store_mutex);
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
                reloader.has_file() ? std::string() : std::string(config::kNothingToReload),
                open_store};

  // Prevent beside another mail-path role gets an I/O thread of its own
  // where there is a second core: one I/O thread running the gateway's and
  // prevent's sessions together is what limits the embedded default.
  const bool prevent_thread = std::thread::hardware_concurrency() > 1 && config->prevent &&
                              (config->gateway || config->milter || config->monitor);
  std::vector<RoleThread*> role_threads;
  for (auto role : config->roles()) {
    RoleResult made = fail(std::string());
    if (role == config::Role::prevent && prevent_thread) {
      auto threaded = std::make_unique<RoleThread>(
          shared, [role](Shared& own) { return make_role(role, own); });
      if (!threaded->made()) {
        made = fail(threaded->made().error());
      } else if (!*threaded->made()) {
        made = std::unique_ptr<Role>();
      } else {
        role_threads.push_back(threaded.get());
        made = std::unique_ptr<Role>(std::move(threaded));
      }
    } else {
      made = make_role(role, shared);
    }
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

  spdlog::info("cordon running: {} role(s), {} I/O thread(s), {} worker thread(s)", roles.size(),
               1 + role_threads.size(), worker_count);
  io.run();
  reloader.stop();
  for (auto* threaded : role_threads) threaded->stop_thread();
  workers.join();
  roles.clear();
  return 0;
}

}  // namespace cordon::roles
