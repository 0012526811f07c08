// The queue manager's scheduling: periodic rescans, dispatch under the
// concurrency limits, and claiming a message for one attempt (the attempt
// itself is queue::run_attempt, wired in gateway_attempt.cpp).
#include "roles/gateway/gateway_queue.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <random>

#include "queue/operator_actions.hpp"
#include "queue/time_format.hpp"
#include "roles/gateway/gateway_support.hpp"
#include "util/log_event.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator into a coroutine; the pairing is Asio's own.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::roles::gateway {
QueueManager::QueueManager(Shared& shared, queue::Spool spool, std::string hostname)
    : shared_(shared),
      spool_(std::move(spool)),
      unsaved_(std::make_shared<queue::UnsavedEnvelopes>(spool_)),
      hostname_(std::move(hostname)),
      config_(shared.config.get()),
      dlp_tls_(dlp_tls_context(config_->gateway->dlp)),
      scheduler_(retry_policy(*config_->gateway), std::random_device{}()),
      dispatcher_(config_->gateway->concurrency),
      sessions_(smtp::SessionCache::create(shared.io.get_executor())),
      timer_(shared.io) {}

void QueueManager::start() {
  schedule_scan(std::chrono::milliseconds(0));
}

void QueueManager::stop() {
  stopped_ = true;
  timer_.cancel();
  const auto c = sessions_->counters();
  spdlog::info(
      "gateway: {} deliveries over reused SMTP sessions, {} over new ones ({} found closed)",
      c.reused, c.opened, c.stale);
  sessions_->clear();
}

void QueueManager::reload(const std::shared_ptr<const config::Config>& config) {
  // Called from the I/O thread (SIGHUP handler); the scheduler's policy and
  // the DLP settings apply to the next attempt. The concurrency limit is
  // fixed at start.
  asio::post(shared_.io, [self = shared_from_this(), config] {
    self->config_ = config;
    self->dlp_tls_ = dlp_tls_context(config->gateway->dlp);
    self->scheduler_ =
        queue::RetryScheduler(retry_policy(*config->gateway), std::random_device{}());
  });
}

void QueueManager::committed(const std::string& id, bool skip_dlp) {
  asio::post(shared_.io, [self = shared_from_this(), id, skip_dlp] {
    if (!self->stopped_) self->dispatch(id, skip_dlp);
  });
}

void QueueManager::schedule_scan(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->stopped_ || !self->dispatcher_.timer_fired()) return;
    asio::co_spawn(self->shared_.io, self->scan(), asio::detached);
  });
}

namespace {

// What one scan learns besides the due messages: operator actions taken
// with `cordon queue` since the last scan, and how many messages each
// state holds.
struct ScanExtras {
  std::vector<queue::OperatorAction> actions;
  std::vector<std::pair<queue::QueueState, std::optional<std::size_t>>> counts;
};

ScanExtras scan_extras(const queue::Spool& spool) {
  ScanExtras out;
  out.actions = queue::take_operator_actions(spool.root());
  for (auto state : {queue::QueueState::incoming, queue::QueueState::active,
                     queue::QueueState::deferred, queue::QueueState::hold}) {
    auto n = spool.count(state);
    out.counts.emplace_back(state, n ? std::optional<std::size_t>(*n) : std::nullopt);
  }
  return out;
}

void log_operator_action(const queue::OperatorAction& a) {
  util::LogFields fields;
  fields.add("role", "gateway")
      .add("event", "operator_action")
      .add("action", a.action)
      .add("queue_id", a.id)
      .add("count", a.count)
      .add("time", queue::format_rfc3339(a.time));
  if (a.action == "unreadable") {
    util::log_event(spdlog::level::warn,
                    fmt::format("queue: unreadable operator action record {} removed", a.id),
                    fields);
  } else if (a.action == "flush") {
    util::log_event(spdlog::level::info,
                    fmt::format("queue: flush by the operator at {}: {} message(s) retried now",
                                queue::format_rfc3339(a.time), a.count),
                    fields);
  } else {
    util::log_event(spdlog::level::info,
                    fmt::format("queue {}: {} by the operator at {}", a.id, a.action,
                                queue::format_rfc3339(a.time)),
                    fields);
  }
}

}  // namespace

asio::awaitable<void> QueueManager::scan() {
  auto self = shared_from_this();
  dispatcher_.scan_started();
  auto spool = spool_;
  auto look = [spool] { return scan_extras(spool); };
  auto extras = co_await offload(shared_.workers, look);
  for (const auto& a : extras.actions) log_operator_action(a);
  for (const auto& [state, n] : extras.counts) {
    if (!n) continue;  // unreadable now: the gauge keeps its last value
    shared_.metrics
        .gauge("cordon_queue_messages", "Messages in the gateway's queue, by state",
               "state=\"" + std::string(queue::to_string(state)) + "\"")
        .set(static_cast<std::int64_t>(*n));
  }
  auto unsaved = unsaved_;
  auto list_due = [unsaved] { return unsaved->due(std::chrono::system_clock::now()); };
  auto due = co_await offload(shared_.workers, list_due);
  dispatcher_.scan_listed();
  shared_.metrics
      .gauge("cordon_queue_unsaved_envelopes",
             "Messages whose last attempt's envelope could not be written yet (disk full)")
      .set(static_cast<std::int64_t>(unsaved_->size()));
  if (!due) {
    spdlog::error("gateway queue scan failed: {}", due.error().detail);
  } else {
    for (const auto& m : *due)
      dispatch(m.id, m.envelope.flags.inspected || m.envelope.flags.bypassed);
  }
  schedule_scan(dispatcher_.scan_done());
}

std::string QueueManager::destination(bool skip_dlp) const {
  if (!skip_dlp) return "dlp";
  return config_->gateway->smarthost ? config_->gateway->smarthost->to_string() : "maildir";
}

void QueueManager::dispatch(const std::string& id, bool skip_dlp) {
  auto slot = dispatcher_.start(id, destination(skip_dlp));
  if (!slot) return;
  asio::co_spawn(shared_.io, process(id, std::move(*slot)), asio::detached);
}

asio::awaitable<void> QueueManager::process(std::string id, queue::ConcurrencyLimiter::Slot slot) {
  auto self = shared_from_this();  // the manager outlives every attempt
  auto spool = spool_;
  auto unsaved = unsaved_;
  // The claim and the read in one trip to the worker pool: the content is
  // checked before DLP or the next hop sees a byte of it.
  struct Claimed {
    queue::SpoolResult<queue::QueuedMessage> message;
    std::optional<queue::SpoolResult<std::string>> content;
  };
  // First the claim (incoming/deferred -> active); after an attempt that
  // left the inspected copy in the entry, the entry as it is in active/.
  bool in_active = false;
  for (;;) {
    auto claim = [spool, unsaved, id, in_active] {
      Claimed out{in_active ? spool.find(id) : unsaved->claim(id), std::nullopt};
      if (out.message && out.message->state != queue::QueueState::active)
        out.message = fail(
            queue::SpoolFailure{queue::SpoolError::not_found, "message " + id + " left active/"});
      if (out.message) out.content = spool.read_checked(*out.message);
      return out;
    };
    auto claimed = co_await offload(shared_.workers, claim);
    if (!claimed.message) {
      // not_found: another scan, the CLI (hold, delete) or a finished attempt got there first.
      // corrupt: the spool has quarantined it (and said so).
      const auto code = claimed.message.error().code;
      if (code != queue::SpoolError::not_found && code != queue::SpoolError::corrupt)
        spdlog::error("queue {}: cannot claim: {}", id, claimed.message.error().detail);
      dispatcher_.abandoned(id);
      co_return;
    }
    const auto now = std::chrono::system_clock::now();
    auto& content = *claimed.content;
    std::optional<std::string> text;
    if (content) {
      text = std::move(*content);
    } else if (content.error().code != queue::SpoolError::corrupt) {
      spdlog::error("queue {}: cannot read the content: {}", id, content.error().detail);
    }
    // Damaged content was quarantined: no attempt, nothing to defer.
    bool inspected_copy_kept = false;
    if (text || content.error().code != queue::SpoolError::corrupt)
      inspected_copy_kept = co_await attempt(id, claimed.message->envelope, text, now);
    { auto released = std::move(slot); }  // the attempt is over: give the slot back now
    if (auto delay = dispatcher_.finished(id)) schedule_scan(*delay);
    if (!inspected_copy_kept) co_return;
    // The entry is now the inspected copy: on to delivery at once, without
    // a trip through incoming/, when the next hop has a slot free.
    if (!stopped_) {
      if (auto next = dispatcher_.start(id, destination(true))) {
        slot = std::move(*next);
        in_active = true;
        continue;
      }
    }
    spdlog::info("queue {}: the inspected copy waits for a delivery slot", id);
    auto requeue = [spool, id] {
      auto moved = spool.requeue(id);
      return moved ? moved : spool.defer_unchanged(id);
    };
    if (auto moved = co_await offload(shared_.workers, requeue); !moved) {
      spdlog::error("queue {}: cannot requeue the inspected copy: {}", id, moved.error().detail);
      co_return;
    }
    // Waits for a slot like any due message (and brings the next scan
    // forward when there is none yet).
    if (!stopped_) dispatch(id, true);
    co_return;
  }
}

bool QueueManager::begin_in_place(const std::string& id) {
  return in_place_.begin(id);
}

void QueueManager::end_in_place(const std::string& id, bool kept) {
  in_place_.end(id, kept);
}

asio::awaitable<bool> QueueManager::end_dlp_wait(const std::string& id) {
  asio::steady_timer pause(shared_.io);
  while (in_place_.writing(id)) {
    pause.expires_after(std::chrono::milliseconds(2));
    std::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return in_place_.close(id);
}

}  // namespace cordon::roles::gateway
