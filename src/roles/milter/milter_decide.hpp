// The milter role's end-of-message decision: a message from the milter
// session (milter/session.hpp) inspected on the worker pool by the one
// pipeline (inspect/inspect.hpp), and the inspection mapped onto the
// milter's answer: the merged block reply, header and recipient changes,
// quarantine, or accept. Counted in the role's metrics.
#pragma once

#include <memory>

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include "incidents/store.hpp"
#include "inspect/inspect.hpp"
#include "inspect/metrics.hpp"
#include "milter/server.hpp"
#include "util/current.hpp"
#include "util/metrics.hpp"

namespace cordon::roles::milter {

struct MilterMetrics {
  explicit MilterMetrics(util::Metrics& registry);
  inspect::MessageMetrics messages;
  util::Counter& connections;
  util::Metrics& registry;
  // Protocol events (milter::ServerEvent), by kind.
  void count(cordon::milter::ServerEvent event);
};

// Shared by every connection of the role; lives as long as the last one.
struct MilterContext {
  MilterContext(asio::thread_pool& workers, util::Metrics& metrics)
      : workers(workers), metrics(metrics) {}
  asio::thread_pool& workers;
  MilterMetrics metrics;
  std::shared_ptr<incidents::IncidentStore> store;
  // The inspection snapshot in force; a message is inspected under the one
  // current when its end arrives, and a reload sets the next one.
  util::Current<inspect::Snapshot> snapshot;
};

asio::awaitable<cordon::milter::Decision> decide(
    std::shared_ptr<MilterContext> context, std::shared_ptr<const cordon::milter::Message> message);

}  // namespace cordon::roles::milter
