// One prevent SMTP session: an smtp relay handler (smtp/relay.hpp) towards
// the next hop whose end-of-data decision is the message's inspection.
#pragma once

#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/thread_pool.hpp>

#include "config/config.hpp"
#include "incidents/store.hpp"
#include "inspect/inspect.hpp"
#include "inspect/metrics.hpp"
#include "smtp/client.hpp"
#include "smtp/handler.hpp"
#include "smtp/session_cache.hpp"
#include "util/current.hpp"
#include "util/metrics.hpp"

namespace cordon::roles::prevent {

// The role's metrics, registered once.
struct PreventMetrics {
  explicit PreventMetrics(util::Metrics& registry);
  inspect::MessageMetrics messages;
  util::Counter& downstream_errors;
  util::Counter& clients_refused;
};

// One configuration as the sessions that begin under it see it: the next
// hop from the configuration, and the inspection snapshot built from it.
struct PreventSnapshot {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const inspect::Snapshot> inspection;
};

// Shared by every session of the role; lives as long as the last of them.
struct PreventContext {
  PreventContext(asio::any_io_executor io, asio::thread_pool& workers, util::Metrics& metrics)
      : io(std::move(io)), workers(workers), metrics(metrics) {}

  asio::any_io_executor io;
  asio::thread_pool& workers;
  PreventMetrics metrics;
  std::shared_ptr<incidents::IncidentStore> store;
  std::string hostname;
  // Sessions to the next hop, kept between upstream sessions.
  std::shared_ptr<smtp::SessionCache> sessions;

  // The snapshot in force now: a session takes it when it starts and keeps
  // it; a reload sets the one later sessions take.
  util::Current<PreventSnapshot> snapshot;
};

std::unique_ptr<smtp::Handler> make_prevent_handler(std::shared_ptr<PreventContext> context);

}  // namespace cordon::roles::prevent
