// The gateway's queue manager. It runs on the I/O thread; blocking spool
// calls go to the worker pool. About every second it rescans the spool
// (so `cordon queue flush/hold/release` from another process take effect)
// and it is told at once of each newly committed message.
//
// For each due message: claim it (incoming/deferred -> active), read its
// content checked against the envelope's size and SHA-256 (damage is
// quarantined by the spool and never attempted), then run one attempt
// (queue/attempt.hpp: DLP stage or delivery to the next hop, DSNs, retry or
// expiry), then defer or remove it as the attempt decided. An envelope that
// cannot be saved (a full disk) is kept in memory and saved at a later scan
// (queue/unsaved.hpp), so no message waits in active/ for a restart.
//
// Concurrency: at most gateway.concurrency messages in flight per
// destination, where the DLP pool is one destination and the next hop
// another.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include "queue/dispatch.hpp"
#include "queue/dsn.hpp"
#include "queue/envelope.hpp"
#include "queue/inspected_copy.hpp"
#include "queue/schedule.hpp"
#include "queue/spool.hpp"
#include "queue/unsaved.hpp"
#include "roles/runtime.hpp"
#include "smtp/session_cache.hpp"

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
  bool busy() const { return dispatcher_.busy(); }
  // Reflect mode (I/O thread only): the resubmission listener may keep the
  // inspected copy of `id` in its entry while the attempt that sent it to
  // DLP waits for DLP's reply (see ListenerContext).
  bool begin_in_place(const std::string& id);
  void end_in_place(const std::string& id, bool kept);

 private:
  void schedule_scan(std::chrono::milliseconds delay);
  asio::awaitable<void> scan();
  void dispatch(const std::string& id, bool skip_dlp);
  std::string destination(bool skip_dlp) const;
  asio::awaitable<void> process(std::string id, queue::ConcurrencyLimiter::Slot slot);

  // gateway_attempt.cpp: queue::run_attempt with the spool, the network
  // and the worker pool as its I/O; then metrics, and defer or remove.
  // True when the inspected copy was kept in the message's entry: it is
  // still in active/, and goes straight to delivery (process()).
  asio::awaitable<bool> attempt(const std::string& id, const queue::Envelope& envelope,
                                const std::optional<std::string>& content, queue::TimePoint now);
  // Waits while the inspected copy of `id` is being written (DLP replied
  // before the resubmission was answered: a timeout); true when it was kept.
  asio::awaitable<bool> end_dlp_wait(const std::string& id);
  // Commits a DSN to the spool and dispatches it.
  asio::awaitable<Result<std::string, std::string>> submit_dsn(const queue::QueuedDsn& dsn);

  Shared& shared_;
  queue::Spool spool_;
  // Shared with the worker threads that run the spool calls.
  std::shared_ptr<queue::UnsavedEnvelopes> unsaved_;
  std::string hostname_;
  std::shared_ptr<const config::Config> config_;
  // Built once per configuration: loading the CA store per attempt is costly.
  std::shared_ptr<asio::ssl::context> dlp_tls_;
  queue::CircuitBreakers breakers_;
  queue::RetryScheduler scheduler_;
  queue::Dispatcher dispatcher_;
  // Sessions to DLP hosts and the next hop kept open between attempts.
  std::shared_ptr<smtp::SessionCache> sessions_;
  asio::steady_timer timer_;
  bool stopped_ = false;
  // Messages whose attempt is in its DLP stage, and where their inspected
  // copy stands (begin_in_place/end_in_place).
  queue::InPlaceCopies in_place_;
};

}  // namespace cordon::roles::gateway
