// One prevent SMTP session: the smtp::Handler that mirrors the upstream
// conversation onto the downstream (next hop) and decides at end of data.
// Inline semantics: nothing is acknowledged upstream that the next hop has
// not accepted; a downstream that cannot be reached or answers too late
// turns into 451 4.4.1 upstream, never into a 250.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/thread_pool.hpp>

#include "incidents/store.hpp"
#include "roles/prevent/prevent_inspect.hpp"
#include "roles/runtime.hpp"
#include "smtp/client.hpp"
#include "smtp/handler.hpp"
#include "util/metrics.hpp"

namespace cordon::roles::prevent {

// The role's metrics, registered once.
struct PreventMetrics {
  explicit PreventMetrics(util::Metrics& registry);
  util::Counter& inspected;
  util::Counter& ignored;
  util::Counter& looped;
  util::Counter& blocked;
  util::Counter& redirected;
  util::Counter& modified;
  util::Counter& passed;
  util::Counter& deferred;
  util::Counter& refused;
  util::Counter& downstream_errors;
  util::Histogram& scan_seconds;
};

// Shared by every session of the role; lives as long as the last of them.
struct PreventContext {
  PreventContext(asio::any_io_executor io, asio::thread_pool& workers, ConfigSnapshot& config,
                 util::Metrics& metrics)
      : io(std::move(io)), workers(workers), config(config), metrics(metrics) {}

  asio::any_io_executor io;
  asio::thread_pool& workers;
  ConfigSnapshot& config;
  PreventMetrics metrics;
  std::shared_ptr<incidents::IncidentStore> store;
  Deployment deployment;
  std::string hostname;
  smtp::ClientTimeouts downstream_timeouts;
  EvaluatorPool evaluators;

  // The per-snapshot state for the configuration in force now.
  std::shared_ptr<const SnapshotPolicy> current_policy();

 private:
  std::mutex policy_mutex_;
  std::shared_ptr<const SnapshotPolicy> policy_;
};

std::unique_ptr<smtp::Handler> make_prevent_handler(std::shared_ptr<PreventContext> context);

}  // namespace cordon::roles::prevent
