// The runtime behind `cordon run`: threads, signals, reload, role lifetime.
#include "roles/runtime.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <thread>
#include <vector>

#include "roles/factory.hpp"

namespace cordon::roles {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(5);

RoleResult make_role(config::Role role, Shared& shared) {
  switch (role) {
    case config::Role::gateway: return make_gateway_role(shared);
    case config::Role::prevent: return make_prevent_role(shared);
    case config::Role::console: return make_console_role(shared);
    case config::Role::monitor: return make_monitor_role(shared);
  }
  return fail(std::string("unknown role"));
}

}  // namespace

int run(std::shared_ptr<const config::Config> config, std::optional<std::string> config_path) {
  asio::io_context io(1);
  const unsigned worker_count = std::max(1u, std::thread::hardware_concurrency());
  asio::thread_pool workers(worker_count);
  ConfigSnapshot snapshot(config);
  util::Metrics metrics;
  std::vector<std::unique_ptr<Role>> roles;

  auto reload = [&]() -> Status<std::string> {
    if (!config_path) return fail(std::string("running on the embedded default: nothing to reload"));
    auto loaded = config::load_config_file(*config_path);
    if (!loaded) {
      auto why = loaded.error().to_string();
      spdlog::error("reload refused, the previous configuration stays in force: {}", why);
      metrics.counter("cordon_config_reloads_total", "Configuration reloads", "result=\"refused\"").inc();
      return fail(why);
    }
    snapshot.set(*loaded);
    for (auto& role : roles) role->reload(*loaded);
    metrics.counter("cordon_config_reloads_total", "Configuration reloads", "result=\"ok\"").inc();
    spdlog::info("configuration reloaded from {}: {} policies", *config_path, (*loaded)->policies.size());
    return Ok{};
  };
  Shared shared{io, workers, snapshot, metrics, reload};

  for (auto role : config->roles()) {
    auto made = make_role(role, shared);
    if (!made) {
      spdlog::error("cannot start role {}: {}", config::to_string(role), made.error());
      return 2;
    }
    if (!*made) {
      spdlog::warn("role {} is not part of this build; running without it", config::to_string(role));
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
    spdlog::error("the configuration names no role (gateway, prevent, monitor, console)");
    return 2;
  }

  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_stop = [&] {
    stop_signals.async_wait([&](std::error_code ec, int signo) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", signo);
      for (auto& role : roles) role->shutdown();
      // Sessions get up to the grace period to answer 421 and finish; the
      // loop ends as soon as no role has work in flight.
      const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
      auto poll = std::make_shared<asio::steady_timer>(io);
      auto check = std::make_shared<std::function<void()>>();
      *check = [&io, &roles, deadline, poll, check] {
        const bool busy = std::any_of(roles.begin(), roles.end(),
                                      [](const auto& role) { return role->busy(); });
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
      spdlog::info("SIGHUP: reloading configuration");
      (void)reload();
      wait_hup();
    });
  };
  wait_hup();

  spdlog::info("cordon running: {} role(s), {} worker thread(s)", roles.size(), worker_count);
  io.run();
  workers.join();
  roles.clear();
  return 0;
}

}  // namespace cordon::roles
