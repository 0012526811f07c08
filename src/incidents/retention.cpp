// The retention purge of the incident store (see retention.hpp).
#include "incidents/retention.hpp"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <cstdint>

#include "incidents/incident.hpp"
#include "util/duration.hpp"

namespace cordon::incidents {

RetentionPurger::RetentionPurger(asio::io_context& io, asio::thread_pool& workers,
                                 Retention retention, OpenStore open_store, util::Metrics& metrics,
                                 std::chrono::steady_clock::duration period)
    : io_(io),
      workers_(workers),
      retention_(std::move(retention)),
      open_store_(std::move(open_store)),
      period_(period),
      timer_(io),
      purged_(metrics.counter("cordon_incidents_purged_total",
                              "Incidents deleted by the retention purge (retention.incidents)")),
      failures_(metrics.counter("cordon_incident_purge_failures_total",
                                "Retention purges the incident store refused")) {}

void RetentionPurger::start() {
  arm(std::chrono::seconds(0));
}

void RetentionPurger::stop() {
  timer_.cancel();
}

void RetentionPurger::arm(std::chrono::steady_clock::duration after) {
  timer_.expires_after(after);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec) run_once();
  });
}

void RetentionPurger::run_once() {
  const auto retention = retention_();
  if (retention.count() == 0) return arm(period_);  // keep forever (for now)
  auto store = open_store_();
  if (!store) {
    failures_.inc();
    spdlog::error("retention: cannot open the incident store: {}", store.error());
    return arm(period_);
  }
  const auto cutoff = std::chrono::time_point_cast<Clock::duration>(Clock::now() - retention);
  asio::post(workers_, [this, store = *store, cutoff, retention] {
    auto purged = store->purge(cutoff);
    if (purged) {
      purged_.inc(static_cast<std::uint64_t>(*purged));
      spdlog::info("retention: purged {} incident(s) last seen before {} (retention {})", *purged,
                   format_rfc3339(cutoff), util::format_duration(retention));
    } else {
      failures_.inc();
      spdlog::error("retention: purging incidents last seen before {} failed: {}",
                    format_rfc3339(cutoff), purged.error().message);
    }
    asio::post(io_, [this] { arm(period_); });
  });
}

}  // namespace cordon::incidents
