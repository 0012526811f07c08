// The Asio side of one attempt on one queued message: queue::run_attempt
// (queue/attempt.hpp) with the network, the Maildir and the spool as its
// I/O, blocking calls on the worker pool; then the metrics, and the message
// deferred or removed as the attempt decided.
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "mime/header_edit.hpp"
#include "queue/attempt.hpp"
#include "queue/decision_log.hpp"
#include "queue/time_format.hpp"
#include "roles/gateway/gateway_queue.hpp"
#include "roles/gateway/gateway_support.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator into a coroutine; the pairing is Asio's own.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::roles::gateway {
namespace {

queue::AttemptOptions attempt_options(const config::Config& config, const std::string& hostname,
                                      std::shared_ptr<asio::ssl::context> dlp_tls) {
  const auto& gw = *config.gateway;
  queue::AttemptOptions options;
  options.hostname = hostname;
  if (gw.smarthost) options.smarthost = queue::DlpHost{gw.smarthost->host, gw.smarthost->port};
  options.maildir = std::filesystem::path(config.data_dir) / "maildir";
  options.dlp = dlp_pool_options(gw.dlp, std::move(dlp_tls));
  options.max_lifetime = gw.retry.max_lifetime;
  options.local_domains = gw.local_domains;
  return options;
}

// Free coroutines rather than coroutine lambdas: GCC 12 mishandles those.
asio::awaitable<Result<std::filesystem::path, std::string>> write_maildir(
    asio::thread_pool& workers, const std::filesystem::path& maildir, const std::string& hostname,
    const queue::MaildirMessage& m) {
  auto write = [&] { return queue::deliver_to_maildir(maildir, hostname, m); };
  co_return co_await offload(workers, write);
}

// One SMTP session; a failed TLS negotiation with a host whose certificate
// is verified (DLP with tls: required) is logged with its reason and counted.
asio::awaitable<smtp::DeliveryResult> deliver_logged(std::shared_ptr<smtp::SessionCache> sessions,
                                                     queue::DlpHost hop, smtp::ClientOptions client,
                                                     smtp::DeliveryEnvelope env,
                                                     std::string message,
                                                     util::Counter& tls_failed) {
  auto r = co_await sessions->deliver(hop.host, hop.port, client, env, message);
  if (r.outcome == smtp::DeliveryOutcome::tls_failed && client.tls_context) {
    tls_failed.inc();
    spdlog::warn("gateway: TLS with {} failed (name {}): {}; trying another host or later",
                 hop.to_string(), client.tls_server_name, r.detail);
  }
  co_return r;
}

// The Message-ID of queued content, without angle brackets; empty when
// there is none (or the content could not be read).
std::string message_id_of(const std::optional<std::string>& content) {
  if (!content) return "";
  auto field = mime::find_header(*content, "Message-ID");
  if (!field) return "";
  std::string_view v = field->value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' ||
                        v.front() == '\n' || v.front() == '<'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' ||
                        v.back() == '\n' || v.back() == '>'))
    v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

asio::awaitable<Result<std::string, std::string>> QueueManager::submit_dsn(
    const queue::QueuedDsn& dsn) {
  auto spool = spool_;
  auto queue_dsn = [spool, &dsn] { return spool.submit(dsn.envelope, dsn.content); };
  auto queued = co_await offload(shared_.workers, queue_dsn);
  if (!queued) co_return fail(queued.error().detail);
  dispatch(*queued, true);  // DSNs are inspected: straight to the next hop
  co_return *queued;
}

asio::awaitable<bool> QueueManager::attempt(const std::string& id, const queue::Envelope& envelope,
                                            const std::optional<std::string>& content,
                                            queue::TimePoint now) {
  const auto options = attempt_options(*config_, hostname_, dlp_tls_);
  queue::AttemptIo io;
  auto& tls_failed = shared_.metrics.counter("cordon_dlp_tls_failures_total",
                                             "DLP sessions whose required TLS failed (certificate "
                                             "not verified, name mismatch, no STARTTLS)");
  io.smtp = [sessions = sessions_, &tls_failed](
                const queue::DlpHost& hop, const smtp::ClientOptions& client,
                const smtp::DeliveryEnvelope& env, const std::string& message) {
    return deliver_logged(sessions, hop, client, env, message, tls_failed);
  };
  io.maildir = [this, &options](const queue::MaildirMessage& m) {
    return write_maildir(shared_.workers, options.maildir, hostname_, m);
  };
  io.submit_dsn = [this](const queue::QueuedDsn& dsn) { return submit_dsn(dsn); };
  const std::string message_id = message_id_of(content);
  // The DLP stage runs: the inspected copy may come back into this entry.
  const bool to_dlp = content && !envelope.flags.inspected && !envelope.flags.bypassed;
  if (to_dlp) in_place_.open(id);
  auto report = co_await queue::run_attempt(options, breakers_, scheduler_, io, id, envelope,
                                            std::move(content), now);
  const bool copy_kept = to_dlp && co_await end_dlp_wait(id);
  queue::log_decision(id, envelope, message_id, report);

  auto& metrics = shared_.metrics;
  // Each DLP host's breaker as a state set (1 for the state it is in), for
  // /metrics and the console's health view.
  for (const auto& host : options.dlp.hosts) {
    const auto key = host.to_string();
    const auto now_state = breakers_.state(key);
    for (auto state :
         {queue::BreakerState::closed, queue::BreakerState::open, queue::BreakerState::half_open})
      metrics
          .gauge("cordon_dlp_breaker_state",
                 "Circuit breaker of each DLP host (1 for its current state)",
                 fmt::format("host=\"{}\",state=\"{}\"", key, queue::to_string(state)))
          .set(state == now_state ? 1 : 0);
  }
  if (report.dlp) {
    const auto& v = *report.dlp;
    metrics
        .counter("cordon_dlp_verdicts_total", "DLP pool verdicts",
                 fmt::format("outcome=\"{}\"", to_string(v.outcome)))
        .inc();
    if (v.outcome == queue::DlpOutcome::bypass)
      metrics
          .counter("cordon_dlp_bypass_total", "Messages delivered around DLP",
                   fmt::format("reason=\"{}\"", v.bypass_reason))
          .inc();
    if (v.outcome == queue::DlpOutcome::fail_closed)
      metrics
          .counter("cordon_dlp_fail_closed_total", "Bypass cases kept queued (bypass: false)",
                   fmt::format("reason=\"{}\"", v.bypass_reason))
          .inc();
  }
  if (report.bounced)
    metrics.counter("cordon_gateway_bounced_total", "Recipients bounced").inc(report.bounced);
  if (!report.delivered_via.empty())
    metrics
        .counter("cordon_gateway_delivered_total", "Messages delivered",
                 fmt::format("via=\"{}\"", report.delivered_via))
        .inc();

  if (copy_kept) {
    // The entry is now the inspected copy: whatever this attempt decided
    // for the original (passed; or a DLP timeout after the copy came back)
    // the copy supersedes it, as a copy queued whole would have. process()
    // takes it to delivery.
    spdlog::info("queue {}: the inspected copy in this entry goes to delivery", id);
    co_return true;
  }
  if (report.keep) {
    spdlog::info("queue {}: deferred until {} (attempt {})", id,
                 queue::format_rfc3339(report.envelope.next_attempt), report.envelope.attempts);
    // A failed save (disk full) keeps the envelope in memory: see queue/unsaved.hpp.
    auto unsaved = unsaved_;
    auto defer_message = [unsaved, &id, &report] { return unsaved->defer(id, report.envelope); };
    co_await offload(shared_.workers, defer_message);
    co_return false;
  }
  auto unsaved = unsaved_;
  auto remove_message = [unsaved, &id] { return unsaved->remove(id); };
  auto removed = co_await offload(shared_.workers, remove_message);
  if (!removed && removed.error().code != queue::SpoolError::not_found)
    spdlog::error("queue {}: cannot remove: {}", id, removed.error().detail);
  else
    spdlog::info("queue {}: removed", id);
  co_return false;
}

}  // namespace cordon::roles::gateway
