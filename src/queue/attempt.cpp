// One attempt on one queued message; rules in queue/attempt.hpp.
#include "queue/attempt.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "queue/outcome.hpp"
#include "queue/queue_id.hpp"
#include "queue/smtp_envelope.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator into a coroutine; the pairing is Asio's own.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::queue {
namespace {

// The message being worked on, and what the attempt found so far.
class Attempt {
 public:
  Attempt(const AttemptOptions& options, CircuitBreakers& breakers, RetryScheduler& scheduler,
          const AttemptIo& io, const std::string& id, const std::string& content, TimePoint now,
          AttemptReport& report)
      : options_(options),
        breakers_(breakers),
        scheduler_(scheduler),
        io_(io),
        id_(id),
        content_(content),
        now_(now),
        r_(report),
        envelope_(report.envelope) {
    dlp_bounced_ = envelope_.flags.dsn_headers_only;  // set only while a DSN is owed
  }

  void trace(std::string event, std::string detail) {
    spdlog::info("queue {}: {}: {}", id_, event, detail);
    envelope_.add_trace(std::chrono::system_clock::now(), std::move(event), std::move(detail));
  }

  // DSNs an earlier attempt could not queue go out with this attempt's.
  void owed_from_earlier() {
    for (std::size_t i = 0; i < envelope_.recipients.size(); ++i)
      if (envelope_.recipients[i].dsn_owed) failed_.push_back(i);
  }

  asio::awaitable<void> dlp_stage();
  asio::awaitable<void> delivery_stage();
  asio::awaitable<void> finish();

 private:
  // Keeps what a stage's outcome means for the DSN.
  void record(const Outcome& outcome) {
    for (const auto& f : outcome.failed) failed_.push_back(f.index);
    dlp_bounced_ = dlp_bounced_ || outcome.headers_only;
    r_.bounced += outcome.failed.size();
  }
  // The failure DSN for `which`; those it could not be queued for keep owing one.
  asio::awaitable<void> bounce(const std::vector<std::size_t>& which);
  // False only when the DSN was due and could not be committed to the spool.
  asio::awaitable<bool> send_dsns(DsnAction action, const std::vector<std::size_t>& which);

  const AttemptOptions& options_;
  CircuitBreakers& breakers_;
  RetryScheduler& scheduler_;
  const AttemptIo& io_;
  const std::string& id_;
  const std::string& content_;
  TimePoint now_;
  AttemptReport& r_;
  Envelope& envelope_;
  // Recipients whose failure DSN is to be sent: those that failed in this
  // attempt, and those still owed one from an earlier attempt.
  std::vector<std::size_t> failed_;
  bool dlp_bounced_ = false;  // DLP refused the content: the DSN never returns it
};

asio::awaitable<void> Attempt::dlp_stage() {
  const auto which = pending_recipients(envelope_);
  if (which.empty()) co_return;
  const auto& pool = options_.dlp;
  const auto envelope = delivery_envelope(envelope_, which);
  // The header lets the resubmitted copy name this queue entry in its trace.
  const std::string message = std::string(kQueueIdHeader) + ": " + id_ + "\r\n" + content_;
  std::vector<smtp::ClientOptions> clients;  // one per host: the name its certificate must carry
  for (const auto& hp : pool.hosts)
    clients.push_back(dlp_client_options(pool, options_.hostname, hp));
  DlpAttempt attempt = [&](const DlpHost& hp) {
    std::size_t i = 0;
    while (i + 1 < pool.hosts.size() &&
           (pool.hosts[i].host != hp.host || pool.hosts[i].port != hp.port))
      ++i;
    return io_.smtp(hp, clients[i], envelope, message);
  };
  DlpVerdict v = co_await run_dlp_pool(pool, breakers_, attempt);
  r_.dlp = v;
  if (v.outcome == DlpOutcome::bypass) {
    spdlog::warn("queue {}: DLP bypass ({}): delivering uninspected: {}", id_, v.bypass_reason,
                 v.detail);
    envelope_.flags.bypassed = true;
    trace(std::string(trace_event::dlp_bypass), v.bypass_reason + ": " + v.detail);
    co_return;
  }
  auto outcome = apply_result(envelope_, which, Step::dlp, v.result, v.host, v.detail);
  record(outcome);
  switch (v.outcome) {
    case DlpOutcome::passed:
      trace(std::string(trace_event::dlp_passed), v.detail);
      if (!outcome.pending.empty())
        trace(std::string(trace_event::dlp_deferred),
              fmt::format("{} recipient(s) deferred by DLP", outcome.pending.size()));
      break;
    case DlpOutcome::bounced:
      trace(std::string(trace_event::dlp_bounced), v.detail);
      break;
    case DlpOutcome::fail_closed:
      spdlog::warn("queue {}: DLP unavailable ({}), bypass is off: message stays queued: {}", id_,
                   v.bypass_reason, v.detail);
      trace(std::string(trace_event::dlp_deferred),
            "fail-closed (bypass: false), " + v.bypass_reason + ": " + v.detail);
      break;
    default:
      trace(std::string(trace_event::dlp_deferred), v.detail);
      break;
  }
}

asio::awaitable<void> Attempt::delivery_stage() {
  const auto which = pending_recipients(envelope_);
  if (which.empty()) co_return;
  auto& rcpts = envelope_.recipients;
  const auto extra = delivery_headers(envelope_);

  if (!options_.smarthost) {
    MaildirMessage m{id_, envelope_.sender, {}, extra, content_};
    for (auto i : which) m.recipients.push_back(rcpts[i].address);
    auto written = co_await io_.maildir(m);
    if (!written) {
      spdlog::error("queue {}: maildir delivery failed: {}", id_, written.error());
      for (auto i : which) rcpts[i].last_reply = "451 4.3.0 maildir: " + written.error();
      trace(std::string(trace_event::delivery_deferred), "maildir: " + written.error());
      co_return;
    }
    for (auto i : which) {
      rcpts[i].state = RecipientState::delivered;
      rcpts[i].last_reply = "maildir " + written->filename().string();
    }
    r_.delivered_via = "maildir";
    trace(std::string(trace_event::delivered),
          fmt::format("maildir new/{} ({} recipient(s))", written->filename().string(),
                      which.size()));
    co_return;
  }

  std::string message;
  for (const auto& h : extra) message += h + "\r\n";
  message += content_;
  smtp::ClientOptions client;
  client.helo_name = options_.hostname;
  client.tls = smtp::TlsPolicy::opportunistic;
  const std::string hop = options_.smarthost->to_string();
  const auto envelope = delivery_envelope(envelope_, which);
  auto r = co_await io_.smtp(*options_.smarthost, client, envelope, message);
  const std::string said = describe(hop, r);
  auto outcome = apply_result(envelope_, which, Step::delivery, r, hop, said);
  record(outcome);
  switch (r.outcome) {
    case smtp::DeliveryOutcome::ok:
      r_.delivered_via = "smarthost";
      trace(std::string(trace_event::delivered),
            fmt::format("{} recipient(s): {}", outcome.delivered.size(), said));
      if (!outcome.failed.empty())
        trace("bounced", fmt::format("{} recipient(s) refused by {}", outcome.failed.size(), hop));
      break;
    case smtp::DeliveryOutcome::permanent:
      trace("bounced", said);
      break;
    default:
      trace(std::string(trace_event::delivery_deferred),
            fmt::format("{} ({})", said, smtp::to_string(r.outcome)));
      break;
  }
}

asio::awaitable<void> Attempt::finish() {
  if (!failed_.empty()) co_await bounce(failed_);
  auto plan = plan_retry(envelope_, scheduler_, now_);
  if (plan.expired) {
    trace(std::string(trace_event::expired),
          fmt::format("max_lifetime reached after {} attempt(s)", envelope_.attempts));
    co_await bounce(plan.recipients);
  } else if (plan.send_delay_warning) {
    // Marked sent only once queued: a lost delay notice is tried again.
    bool sent = co_await send_dsns(DsnAction::delayed, plan.recipients);
    envelope_.flags.delay_warning_sent = sent;
  }
  r_.keep = settle(envelope_, scheduler_, dlp_bounced_, now_);
}

asio::awaitable<void> Attempt::bounce(const std::vector<std::size_t>& which) {
  bool queued = co_await send_dsns(DsnAction::failed, which);
  for (auto i : which) envelope_.recipients[i].dsn_owed = !queued;
}

asio::awaitable<bool> Attempt::send_dsns(DsnAction action, const std::vector<std::size_t>& which) {
  DsnContext context;
  context.reporting_mta = options_.hostname;
  context.queue_id = id_;
  context.original = content_;
  context.dlp_refused = dlp_bounced_;
  context.sender_local = sender_is_local(envelope_.sender, options_.local_domains);
  context.last_attempt = now_;
  context.will_retry_until = envelope_.arrival + options_.max_lifetime;
  context.now = std::chrono::system_clock::now();
  auto dsn = make_dsn(envelope_, action, which, context);
  if (!dsn) {
    // Nobody asked for one (NOTIFY=NEVER), or the message is itself from <>.
    if (dsn.error() != DsnError::no_recipients)
      spdlog::info("queue {}: no DSN: {}", id_, to_string(dsn.error()));
    co_return true;
  }
  const char* kind = action == DsnAction::failed ? "failure" : "delay";
  auto queued = co_await io_.submit_dsn(*dsn);
  if (!queued) {
    spdlog::error("queue {}: cannot queue the {} DSN: {}", id_, kind, queued.error());
    if (action == DsnAction::failed)
      trace(std::string(trace_event::dsn_deferred),
            fmt::format("failure notice to <{}> not queued, kept for the next attempt: {}",
                        envelope_.sender, queued.error()));
    co_return false;
  }
  trace(std::string(action == DsnAction::delayed ? trace_event::delay_warning : trace_event::dsn),
        fmt::format("{} notice to <{}> queued as {}", kind, envelope_.sender, *queued));
  co_return true;
}

}  // namespace

asio::awaitable<AttemptReport> run_attempt(const AttemptOptions& options, CircuitBreakers& breakers,
                                           RetryScheduler& scheduler, const AttemptIo& io,
                                           std::string id, Envelope envelope,
                                           std::optional<std::string> content, TimePoint now) {
  AttemptReport report;
  report.envelope = envelope;
  report.envelope.attempts += 1;
  static const std::string kNoContent;
  Attempt a(options, breakers, scheduler, io, id, content ? *content : kNoContent, now, report);
  if (!content) {
    a.trace(std::string(trace_event::delivery_deferred),
            "local error: cannot read the queued content");
  } else {
    a.owed_from_earlier();
    const auto& flags = report.envelope.flags;
    if (!flags.inspected && !flags.bypassed) co_await a.dlp_stage();
    if (flags.inspected || flags.bypassed) co_await a.delivery_stage();
  }
  co_await a.finish();
  co_return report;
}

}  // namespace cordon::queue
