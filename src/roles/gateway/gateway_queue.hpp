// The gateway's queue manager. It runs on the I/O thread; blocking spool
// calls go to the worker pool. About every second it rescans the spool
// (so `cordon queue flush/hold/release` from another process take effect)
// and it is told at once of each newly committed message.
//
// For each due message: claim it (incoming/deferred -> active), then
//  - not inspected and not bypassed: the DLP pool (gateway_dlp.hpp) decides
//    passed / deferred / bounced / bypass / fail-closed;
//  - inspected (arrived back on the resubmission port, or a DSN) or
//    bypassed: deliver to the next hop (Maildir or smarthost).
// Recipients end delivered, failed (-> DSN) or pending (-> retry with the
// schedule and jitter; max_lifetime -> DSN 4.4.7; one delay DSN).
//
// DSNs are queued as inspected and never go to DLP: they carry only what
// the sender sent (headers only when DLP bounced the message, so a DSN never
// echoes the content DLP stopped), and inspecting them would block the
// very notice that tells the sender why a message was stopped.
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
#include "queue/schedule.hpp"
#include "queue/spool.hpp"
#include "roles/gateway/gateway_dlp.hpp"
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
    // Recipients that failed during this attempt, and what the DSN says.
    struct Failure {
      std::size_t index;
      std::string status;      // enhanced status code
      std::string remote_mta;  // empty for local failures
    };
    std::vector<Failure> failed;
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
  asio::awaitable<void> send_dsns(Attempt& a, queue::DsnAction action,
                                  const std::vector<std::size_t>& recipients);
  void trace(Attempt& a, std::string event, std::string detail);

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
