// One attempt on one queued message: the DLP stage, delivery to the next
// hop (Maildir or smarthost), and the bookkeeping that follows (DSNs,
// retry or expiry, removal). Rules in gateway_queue.hpp, queue/dlp_pool.hpp
// and queue/outcome.hpp.
#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "queue/maildir.hpp"
#include "queue/queue_id.hpp"
#include "queue/smtp_envelope.hpp"
#include "queue/time_format.hpp"
#include "roles/gateway/gateway_queue.hpp"
#include "roles/gateway/gateway_support.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator into a coroutine; the pairing is Asio's own.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::roles::gateway {
namespace {

using queue::pending_recipients;
using queue::RecipientState;

// host:port to an endpoint: IP literals directly, names through the resolver.
asio::awaitable<Result<asio::ip::tcp::endpoint, std::string>> resolve(
    const asio::any_io_executor& ex, const std::string& host, std::uint16_t port) {
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) co_return asio::ip::tcp::endpoint(address, port);
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(
      host, std::to_string(port), asio::experimental::as_tuple(asio::use_awaitable));
  if (rec || results.empty())
    co_return fail("cannot resolve " + host + ": " + (rec ? rec.message() : "no address"));
  co_return results.begin()->endpoint();
}

// Arguments by reference: see offload() on GCC 12 and prvalue arguments.
asio::awaitable<smtp::DeliveryResult> attempt_delivery(const asio::any_io_executor& ex,
                                                       const std::string& host, std::uint16_t port,
                                                       const smtp::ClientOptions& options,
                                                       const smtp::DeliveryEnvelope& envelope,
                                                       std::string_view message) {
  auto endpoint = co_await resolve(ex, host, port);
  if (!endpoint) {
    smtp::DeliveryResult r;
    r.outcome = smtp::DeliveryOutcome::connect_failed;
    r.detail = endpoint.error();
    co_return r;
  }
  co_return co_await smtp::deliver(ex, *endpoint, options, envelope, message);
}

}  // namespace

void QueueManager::trace(Attempt& a, std::string event, std::string detail) {
  spdlog::info("queue {}: {}: {}", a.id, event, detail);
  a.envelope.add_trace(std::chrono::system_clock::now(), std::move(event), std::move(detail));
}

void QueueManager::record(Attempt& a, const queue::Outcome& outcome) {
  for (const auto& f : outcome.failed) a.failed.push_back(f.index);
  a.dlp_bounced = a.dlp_bounced || outcome.headers_only;
  if (!outcome.failed.empty())
    shared_.metrics.counter("cordon_gateway_bounced_total", "Recipients bounced")
        .inc(outcome.failed.size());
}

asio::awaitable<void> QueueManager::dlp_stage(Attempt& a) {
  const auto which = pending_recipients(a.envelope);
  if (which.empty()) co_return;
  const auto pool = dlp_pool_options(a.config->gateway->dlp);
  const auto envelope = queue::delivery_envelope(a.envelope, which);
  // The header lets the resubmitted copy name this queue entry in its trace.
  const std::string message = std::string(queue::kQueueIdHeader) + ": " + a.id + "\r\n" + a.content;
  const auto options = queue::dlp_client_options(pool, hostname_);
  asio::any_io_executor ex = shared_.io.get_executor();
  queue::DlpAttempt attempt = [&](const queue::DlpHost& hp) {
    return attempt_delivery(ex, hp.host, hp.port, options, envelope, message);
  };
  queue::DlpVerdict v = co_await queue::run_dlp_pool(pool, breakers_, attempt);
  shared_.metrics
      .counter("cordon_dlp_verdicts_total", "DLP pool verdicts",
               fmt::format("outcome=\"{}\"", to_string(v.outcome)))
      .inc();
  if (v.outcome == queue::DlpOutcome::bypass) {
    spdlog::warn("queue {}: DLP bypass ({}): delivering uninspected: {}", a.id, v.bypass_reason,
                 v.detail);
    shared_.metrics
        .counter("cordon_dlp_bypass_total", "Messages delivered around DLP",
                 fmt::format("reason=\"{}\"", v.bypass_reason))
        .inc();
    a.envelope.flags.bypassed = true;
    trace(a, std::string(queue::trace_event::dlp_bypass), v.bypass_reason + ": " + v.detail);
    co_return;
  }
  auto outcome =
      queue::apply_result(a.envelope, which, queue::Step::dlp, v.result, v.host, v.detail);
  record(a, outcome);
  switch (v.outcome) {
    case queue::DlpOutcome::passed:
      trace(a, std::string(queue::trace_event::dlp_passed), v.detail);
      if (!outcome.pending.empty())
        trace(a, std::string(queue::trace_event::dlp_deferred),
              fmt::format("{} recipient(s) deferred by DLP", outcome.pending.size()));
      break;
    case queue::DlpOutcome::bounced:
      trace(a, std::string(queue::trace_event::dlp_bounced), v.detail);
      break;
    case queue::DlpOutcome::fail_closed:
      spdlog::warn("queue {}: DLP unavailable ({}), bypass is off: message stays queued: {}", a.id,
                   v.bypass_reason, v.detail);
      shared_.metrics
          .counter("cordon_dlp_fail_closed_total", "Bypass cases kept queued (bypass: false)",
                   fmt::format("reason=\"{}\"", v.bypass_reason))
          .inc();
      trace(a, std::string(queue::trace_event::dlp_deferred),
            "fail-closed (bypass: false), " + v.bypass_reason + ": " + v.detail);
      break;
    default:
      trace(a, std::string(queue::trace_event::dlp_deferred), v.detail);
      break;
  }
}

asio::awaitable<void> QueueManager::delivery_stage(Attempt& a) {
  const auto which = pending_recipients(a.envelope);
  if (which.empty()) co_return;
  auto& rcpts = a.envelope.recipients;
  const auto extra = queue::delivery_headers(a.envelope);
  const auto& gw = *a.config->gateway;

  if (!gw.smarthost) {
    queue::MaildirMessage m{a.id, a.envelope.sender, {}, extra, a.content};
    for (auto i : which) m.recipients.push_back(rcpts[i].address);
    auto maildir = std::filesystem::path(a.config->data_dir) / "maildir";
    auto write_maildir = [&] { return queue::deliver_to_maildir(maildir, hostname_, m); };
    auto written = co_await offload(shared_.workers, write_maildir);
    if (!written) {
      spdlog::error("queue {}: maildir delivery failed: {}", a.id, written.error());
      for (auto i : which) rcpts[i].last_reply = "451 4.3.0 maildir: " + written.error();
      trace(a, std::string(queue::trace_event::delivery_deferred), "maildir: " + written.error());
      co_return;
    }
    for (auto i : which) {
      rcpts[i].state = RecipientState::delivered;
      rcpts[i].last_reply = "maildir " + written->filename().string();
    }
    shared_.metrics
        .counter("cordon_gateway_delivered_total", "Messages delivered", "via=\"maildir\"")
        .inc();
    trace(a, std::string(queue::trace_event::delivered),
          fmt::format("maildir new/{} ({} recipient(s))", written->filename().string(),
                      which.size()));
    co_return;
  }

  std::string message;
  for (const auto& h : extra) message += h + "\r\n";
  message += a.content;
  smtp::ClientOptions options;
  options.helo_name = hostname_;
  options.tls = smtp::TlsPolicy::opportunistic;
  const std::string hop = gw.smarthost->to_string();
  const auto envelope = queue::delivery_envelope(a.envelope, which);
  asio::any_io_executor ex = shared_.io.get_executor();
  auto r = co_await attempt_delivery(ex, gw.smarthost->host, gw.smarthost->port, options, envelope,
                                     message);
  const std::string said = queue::describe(hop, r);
  auto outcome = queue::apply_result(a.envelope, which, queue::Step::delivery, r, hop, said);
  record(a, outcome);
  switch (r.outcome) {
    case smtp::DeliveryOutcome::ok:
      shared_.metrics
          .counter("cordon_gateway_delivered_total", "Messages delivered", "via=\"smarthost\"")
          .inc();
      trace(a, std::string(queue::trace_event::delivered),
            fmt::format("{} recipient(s): {}", outcome.delivered.size(), said));
      if (!outcome.failed.empty())
        trace(a, "bounced",
              fmt::format("{} recipient(s) refused by {}", outcome.failed.size(), hop));
      break;
    case smtp::DeliveryOutcome::permanent:
      trace(a, "bounced", said);
      break;
    default:
      trace(a, std::string(queue::trace_event::delivery_deferred),
            fmt::format("{} ({})", said, smtp::to_string(r.outcome)));
      break;
  }
}

asio::awaitable<void> QueueManager::finish(Attempt& a) {
  if (!a.failed.empty()) co_await bounce(a, a.failed);
  auto plan = queue::plan_retry(a.envelope, scheduler_, a.now);
  if (plan.expired) {
    trace(a, std::string(queue::trace_event::expired),
          fmt::format("max_lifetime reached after {} attempt(s)", a.envelope.attempts));
    co_await bounce(a, plan.recipients);
  } else if (plan.send_delay_warning) {
    // Marked sent only once queued: a lost delay notice is tried again.
    bool sent = co_await send_dsns(a, queue::DsnAction::delayed, plan.recipients);
    a.envelope.flags.delay_warning_sent = sent;
  }
  if (queue::settle(a.envelope, scheduler_, a.dlp_bounced, a.now)) {
    co_await defer(a);
    co_return;
  }
  auto spool = spool_;
  auto remove_message = [spool, id = a.id] { return spool.remove(id); };
  auto removed = co_await offload(shared_.workers, remove_message);
  if (!removed && removed.error().code != queue::SpoolError::not_found)
    spdlog::error("queue {}: cannot remove: {}", a.id, removed.error().detail);
  else
    spdlog::info("queue {}: removed", a.id);
}

asio::awaitable<void> QueueManager::defer(Attempt& a) {
  spdlog::info("queue {}: deferred until {} (attempt {})", a.id,
               queue::format_rfc3339(a.envelope.next_attempt), a.envelope.attempts);
  auto spool = spool_;
  auto defer_message = [spool, id = a.id, env = a.envelope] { return spool.defer(id, env); };
  auto deferred = co_await offload(shared_.workers, defer_message);
  if (!deferred && deferred.error().code != queue::SpoolError::not_found)
    spdlog::error("queue {}: cannot defer: {}", a.id, deferred.error().detail);
}

asio::awaitable<void> QueueManager::bounce(Attempt& a, const std::vector<std::size_t>& which) {
  bool queued = co_await send_dsns(a, queue::DsnAction::failed, which);
  for (auto i : which) a.envelope.recipients[i].dsn_owed = !queued;
}

asio::awaitable<bool> QueueManager::send_dsns(Attempt& a, queue::DsnAction action,
                                              const std::vector<std::size_t>& which) {
  queue::DsnContext context;
  context.reporting_mta = hostname_;
  context.queue_id = a.id;
  context.original = a.content;
  context.headers_only = a.dlp_bounced;
  context.last_attempt = a.now;
  context.will_retry_until = a.envelope.arrival + a.config->gateway->retry.max_lifetime;
  context.now = std::chrono::system_clock::now();
  auto dsn = queue::make_dsn(a.envelope, action, which, context);
  if (!dsn) {
    // Nobody asked for one (NOTIFY=NEVER), or the message is itself from <>.
    if (dsn.error() != queue::DsnError::no_recipients)
      spdlog::info("queue {}: no DSN: {}", a.id, queue::to_string(dsn.error()));
    co_return true;
  }
  const char* kind = action == queue::DsnAction::failed ? "failure" : "delay";
  auto spool = spool_;
  auto queue_dsn = [spool, &dsn] { return spool.submit(dsn->envelope, dsn->content); };
  auto queued = co_await offload(shared_.workers, queue_dsn);
  if (!queued) {
    spdlog::error("queue {}: cannot queue the {} DSN: {}", a.id, kind, queued.error().detail);
    if (action == queue::DsnAction::failed)
      trace(a, std::string(queue::trace_event::dsn_deferred),
            fmt::format("failure notice to <{}> not queued, kept for the next attempt: {}",
                        a.envelope.sender, queued.error().detail));
    co_return false;
  }
  trace(a,
        std::string(action == queue::DsnAction::delayed ? queue::trace_event::delay_warning
                                                        : queue::trace_event::dsn),
        fmt::format("{} notice to <{}> queued as {}", kind, a.envelope.sender, *queued));
  dispatch(*queued, true);
  co_return true;
}

}  // namespace cordon::roles::gateway
