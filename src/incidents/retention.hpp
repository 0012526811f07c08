// The retention purge of the incident store (`retention: {incidents:
// 180d}`): at start and then once a period (a day), the incidents last
// seen longer ago than the retention in force are deleted, and the purge is
// counted in cordon_incidents_purged_total (a refused one in
// cordon_incident_purge_failures_total).
//
// Thread model: start, stop and the timer run on the I/O thread of `io`;
// the store is opened there too, like the roles open it, and the deletion
// runs on a worker of `workers`, in batches (IncidentStore::purge), so
// inspections keep writing between them. Both must outlive the purger, and
// `workers` is joined before it is destroyed.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "incidents/store.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"

namespace cordon::incidents {

class RetentionPurger {
 public:
  // The retention in force, read at each run, so that a reload that
  // changes it applies from the next run; zero keeps incidents forever.
  using Retention = std::function<std::chrono::milliseconds()>;
  // The store to purge, opened (or shared) on the I/O thread at each run.
  using OpenStore = std::function<Result<std::shared_ptr<IncidentStore>, std::string>()>;

  static constexpr std::chrono::hours kDaily{24};

  RetentionPurger(asio::io_context& io, asio::thread_pool& workers, Retention retention,
                  OpenStore open_store, util::Metrics& metrics,
                  std::chrono::steady_clock::duration period = kDaily);
  RetentionPurger(const RetentionPurger&) = delete;
  RetentionPurger& operator=(const RetentionPurger&) = delete;

  // The first run now, then one a period after the previous one ended.
  void start();
  // No further run (one under way on a worker still ends).
  void stop();

 private:
  void arm(std::chrono::steady_clock::duration after);
  void run_once();

  asio::io_context& io_;
  asio::thread_pool& workers_;
  Retention retention_;
  OpenStore open_store_;
  const std::chrono::steady_clock::duration period_;
  asio::steady_timer timer_;
  util::Counter& purged_;
  util::Counter& failures_;
};

}  // namespace cordon::incidents
