// The gateway's queue manager. It runs on the I/O thread; blocking spool
// calls go to the worker pool. About every second it rescans the spool
// (so `cordon queue flush/hold/release` from another process take effect)
// and it is told at once of each newly committed message.
//
// For each due message: claim it (incoming/deferred -> active), then
//  - not inspected and not bypassed: the DLP pool (queue/dlp_pool.hpp) decides
//    passed / deferred / bounced / bypass / fail-closed;
//  - inspected (arrived back on the resubmission port, or a DSN) or
//    bypassed: deliver to the next hop (Maildir or smarthost).
// Recipients end delivered, failed (-> DSN) or pending (-> retry with the
// schedule and jitter; max_lifetime -> DSN 4.4.7; one delay DSN).
//
// DSNs are queued as inspected and never go to DLP (queue/dsn.hpp says
// why). A bounce is never lost: a failure DSN that cannot be committed to
// the spool stays owed on its recipients, the message is deferred instead
// of removed, and later attempts queue the DSN (without asking DLP or the
// next hop again) before the message may go.
//
// Concurrency: at most gateway.concurrency messages in flight per
// destination, where the DLP pool is one destination and the next hop
// another.
#pragma once

#include <memory>
#include <set>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "queue/dsn.hpp"
#include "queue/outcome.hpp"
#include "queue/schedule.hpp"
#include "queue/spool.hpp"
#include "roles/runtime.hpp"

namespace cordon::roles::gateway {

class QueueManager : public std::enable_shared_from_this<QueueManager> {
 public:
  QueueManager(Shared& shared, queue::Spool spool, std::string hostname);

  void start();
  void stop();
  void reload(const std::shared_ptr<const config::Config>& config);
  // A message was just committed: try it now rather than at the next scan.
  void committed(const std::string& id, bool skip_dlp);
  // True while a delivery or DLP attempt is running (I/O thread only).
  bool busy() const { return !in_flight_.empty(); }

 private:
  // One message being worked on.
  struct Attempt {
    std::string id;
    queue::Envelope envelope;
    std::string content;
    std::shared_ptr<const config::Config> config;
    queue::TimePoint now;
    // Recipients whose failure DSN is to be sent: those that failed in this
    // attempt, and those still owed one from an earlier attempt.
    std::vector<std::size_t> failed;
    bool dlp_bounced = false;  // the DSN returns headers only
  };

  void schedule_scan(std::chrono::milliseconds delay);
  // A slot was freed while due messages waited for one: scan soon rather
  // than at the next periodic scan.
  void scan_soon();
  asio::awaitable<void> scan();
  void dispatch(const std::string& id, bool skip_dlp);
  std::string destination(bool skip_dlp) const;
  asio::awaitable<void> process(std::string id, queue::ConcurrencyLimiter::Slot slot);

  // gateway_attempt.cpp
  asio::awaitable<void> dlp_stage(Attempt& a);
  asio::awaitable<void> delivery_stage(Attempt& a);
  asio::awaitable<void> finish(Attempt& a);
  // The failure DSN for `recipients`; those it could not be queued for keep owing one.
  asio::awaitable<void> bounce(Attempt& a, const std::vector<std::size_t>& recipients);
  // False only when the DSN was due and could not be committed to the spool.
  asio::awaitable<bool> send_dsns(Attempt& a, queue::DsnAction action,
                                  const std::vector<std::size_t>& recipients);
  asio::awaitable<void> defer(Attempt& a);
  void trace(Attempt& a, std::string event, std::string detail);
  // Keeps what a stage's outcome means for the DSN.
  void record(Attempt& a, const queue::Outcome& outcome);

  Shared& shared_;
  queue::Spool spool_;
  std::string hostname_;
  std::shared_ptr<const config::Config> config_;
  queue::CircuitBreakers breakers_;
  queue::RetryScheduler scheduler_;
  queue::ConcurrencyLimiter limiter_;
  asio::steady_timer timer_;
  std::set<std::string> in_flight_;
  bool scanning_ = false;
  bool stopped_ = false;
  bool starved_ = false;         // a due message found every slot of its destination taken
  bool soon_scheduled_ = false;  // a scan_soon() scan is pending
  bool rescan_after_scan_ = false;
};

}  // namespace cordon::roles::gateway
