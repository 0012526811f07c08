// One attempt on one queued message: the DLP stage, delivery to the next
// hop (Maildir or smarthost), and the bookkeeping that follows (DSNs,
// retry or expiry, removal). Rules in gateway_queue.hpp and gateway_dlp.hpp.
#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "queue/time_format.hpp"
#include "roles/gateway/gateway_queue.hpp"
#include "roles/gateway/gateway_support.hpp"
#include "roles/gateway/maildir.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator into a coroutine; the pairing is Asio's own.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::roles::gateway {
namespace {

using queue::RecipientState;

std::vector<std::size_t> pending(const queue::Envelope& e) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < e.recipients.size(); ++i)
    if (e.recipients[i].state == RecipientState::pending) out.push_back(i);
  return out;
}

// A reply as it travelled, without the final CRLF (DSN Diagnostic-Code).
std::string reply_text(const smtp::Reply& r) {
  std::string wire = r.wire();
  while (!wire.empty() && (wire.back() == '\n' || wire.back() == '\r')) wire.pop_back();
  return wire;
}

// The same on one line, for log lines and trace details.
std::string flat_reply_text(const smtp::Reply& r) {
  std::string out;
  for (const auto& line : r.lines)
    out += (out.empty() ? std::to_string(r.code) + " " : " / ") + line;
  return out;
}

std::string status_of(const smtp::Reply& r) {
  if (!r.enhanced.empty()) return r.enhanced;
  return r.code >= 500 ? "5.0.0" : "4.0.0";
}

std::string host_only(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  std::string host = colon == std::string::npos ? host_port : host_port.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

// host:port to an endpoint: IP literals directly, names through the resolver.
asio::awaitable<Result<asio::ip::tcp::endpoint, std::string>> resolve(
    const asio::any_io_executor& ex, const config::HostPort& hp) {
  std::error_code ec;
  auto address = asio::ip::make_address(hp.host, ec);
  if (!ec) co_return asio::ip::tcp::endpoint(address, hp.port);
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(
      hp.host, std::to_string(hp.port), asio::experimental::as_tuple(asio::use_awaitable));
  if (rec || results.empty())
    co_return fail("cannot resolve " + hp.host + ": " + (rec ? rec.message() : "no address"));
  co_return results.begin()->endpoint();
}

// Arguments by reference: see offload() on GCC 12 and prvalue arguments.
asio::awaitable<smtp::DeliveryResult> attempt_delivery(const asio::any_io_executor& ex,
                                                       const config::HostPort& hp,
                                                       const smtp::ClientOptions& options,
                                                       const smtp::DeliveryEnvelope& envelope,
                                                       std::string_view message) {
  auto endpoint = co_await resolve(ex, hp);
  if (!endpoint) {
    smtp::DeliveryResult r;
    r.outcome = smtp::DeliveryOutcome::connect_failed;
    r.detail = endpoint.error();
    co_return r;
  }
  co_return co_await smtp::deliver(ex, *endpoint, options, envelope, message);
}

smtp::DeliveryEnvelope delivery_envelope(const queue::Envelope& e,
                                         const std::vector<std::size_t>& which) {
  smtp::DeliveryEnvelope d;
  d.sender = e.sender;
  d.params = to_smtp_params(e.params);
  for (auto i : which) d.recipients.push_back(to_smtp_recipient(e.recipients[i]));
  return d;
}

// Why a bypassed message was bypassed, from its trace (it may have been
// bypassed in an earlier attempt).
std::string bypass_note(const queue::Envelope& e) {
  for (auto it = e.trace.rbegin(); it != e.trace.rend(); ++it)
    if (it->event == "dlp-bypass") return it->detail.substr(0, it->detail.find(':'));
  return "unknown";
}

}  // namespace

void QueueManager::trace(Attempt& a, std::string event, std::string detail) {
  spdlog::info("queue {}: {}: {}", a.id, event, detail);
  a.envelope.add_trace(std::chrono::system_clock::now(), std::move(event), std::move(detail));
}

asio::awaitable<void> QueueManager::dlp_stage(Attempt& a) {
  const auto& dlp = a.config->gateway->dlp;
  const auto which = pending(a.envelope);
  const auto envelope = delivery_envelope(a.envelope, which);
  // The header lets the resubmitted copy name this queue entry in its trace.
  const std::string message = "X-Cordon-Queue-Id: " + a.id + "\r\n" + a.content;
  const auto options = dlp_client_options(dlp, hostname_);
  asio::any_io_executor ex = shared_.io.get_executor();
  DlpAttempt attempt = [&](const config::HostPort& hp) {
    return attempt_delivery(ex, hp, options, envelope, message);
  };
  DlpVerdict v = co_await run_dlp_pool(dlp, breakers_, attempt);
  shared_.metrics
      .counter("cordon_dlp_verdicts_total", "DLP pool verdicts",
               fmt::format("outcome=\"{}\"", to_string(v.outcome)))
      .inc();
  auto& rcpts = a.envelope.recipients;
  const auto& per_rcpt = v.result.recipients;
  switch (v.outcome) {
    case DlpOutcome::passed: {
      std::size_t deferred = 0;
      for (std::size_t k = 0; k < which.size(); ++k) {
        auto& r = rcpts[which[k]];
        const smtp::Reply& reply = k < per_rcpt.size() ? per_rcpt[k].reply : v.result.reply;
        r.last_reply = reply_text(reply);
        if (reply.positive()) {
          r.state = RecipientState::delivered;
          r.last_reply = reply_text(v.result.reply);
        } else if (reply.permanent()) {
          r.state = RecipientState::failed;
          a.failed.push_back({which[k], status_of(reply), host_only(v.host)});
          a.dlp_bounced = true;
        } else {
          ++deferred;
        }
      }
      trace(a, std::string(queue::trace_event::dlp_passed), v.detail);
      if (deferred)
        trace(a, std::string(queue::trace_event::dlp_deferred),
              fmt::format("{} recipient(s) deferred by DLP", deferred));
      break;
    }
    case DlpOutcome::deferred:
      for (auto i : which)
        rcpts[i].last_reply = v.result.reply.code ? reply_text(v.result.reply) : v.detail;
      trace(a, std::string(queue::trace_event::dlp_deferred), v.detail);
      break;
    case DlpOutcome::bounced:
      for (std::size_t k = 0; k < which.size(); ++k) {
        const smtp::Reply& reply = k < per_rcpt.size() && per_rcpt[k].reply.permanent()
                                       ? per_rcpt[k].reply
                                       : v.result.reply;
        auto& r = rcpts[which[k]];
        r.state = RecipientState::failed;
        r.last_reply = reply_text(reply);
        a.failed.push_back({which[k], status_of(reply), host_only(v.host)});
      }
      a.dlp_bounced = true;
      trace(a, std::string(queue::trace_event::dlp_bounced), v.detail);
      break;
    case DlpOutcome::bypass:
      spdlog::warn("queue {}: DLP bypass ({}): delivering uninspected: {}", a.id, v.bypass_reason,
                   v.detail);
      shared_.metrics
          .counter("cordon_dlp_bypass_total", "Messages delivered around DLP",
                   fmt::format("reason=\"{}\"", v.bypass_reason))
          .inc();
      a.envelope.flags.bypassed = true;
      trace(a, std::string(queue::trace_event::dlp_bypass), v.bypass_reason + ": " + v.detail);
      break;
    case DlpOutcome::fail_closed:
      spdlog::warn("queue {}: DLP unavailable ({}), bypass is off: message stays queued: {}", a.id,
                   v.bypass_reason, v.detail);
      shared_.metrics
          .counter("cordon_dlp_fail_closed_total", "Bypass cases kept queued (bypass: false)",
                   fmt::format("reason=\"{}\"", v.bypass_reason))
          .inc();
      for (auto i : which) rcpts[i].last_reply = v.detail;
      trace(a, std::string(queue::trace_event::dlp_deferred),
            "fail-closed (bypass: false), " + v.bypass_reason + ": " + v.detail);
      break;
  }
}

asio::awaitable<void> QueueManager::delivery_stage(Attempt& a) {
  const auto which = pending(a.envelope);
  if (which.empty()) co_return;
  auto& rcpts = a.envelope.recipients;
  std::vector<std::string> extra;
  if (a.envelope.flags.bypassed && !a.envelope.flags.inspected)
    extra.push_back("X-Cordon-DLP: bypassed, not inspected (" + bypass_note(a.envelope) + ")");
  const auto& gw = *a.config->gateway;

  if (!gw.smarthost) {
    MaildirMessage m{a.id, a.envelope.sender, {}, extra, a.content};
    for (auto i : which) m.recipients.push_back(rcpts[i].address);
    auto maildir = std::filesystem::path(a.config->data_dir) / "maildir";
    auto write_maildir = [&] { return deliver_to_maildir(maildir, hostname_, m); };
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
  const auto envelope = delivery_envelope(a.envelope, which);
  asio::any_io_executor ex = shared_.io.get_executor();
  auto r = co_await attempt_delivery(ex, *gw.smarthost, options, envelope, message);
  std::string said = r.reply.code ? fmt::format("{} said: {}", hop, flat_reply_text(r.reply))
                                  : fmt::format("{}: {}", hop, r.detail);
  switch (r.outcome) {
    case smtp::DeliveryOutcome::ok: {
      std::size_t delivered = 0, failed = 0;
      for (std::size_t k = 0; k < which.size(); ++k) {
        auto& rc = rcpts[which[k]];
        const smtp::Reply& reply = k < r.recipients.size() ? r.recipients[k].reply : r.reply;
        rc.last_reply = reply_text(reply.positive() ? r.reply : reply);
        if (reply.positive()) {
          rc.state = RecipientState::delivered;
          ++delivered;
        } else if (reply.permanent()) {
          rc.state = RecipientState::failed;
          a.failed.push_back({which[k], status_of(reply), host_only(hop)});
          ++failed;
        }
      }
      shared_.metrics
          .counter("cordon_gateway_delivered_total", "Messages delivered", "via=\"smarthost\"")
          .inc();
      trace(a, std::string(queue::trace_event::delivered),
            fmt::format("{} recipient(s): {}", delivered, said));
      if (failed) trace(a, "bounced", fmt::format("{} recipient(s) refused by {}", failed, hop));
      break;
    }
    case smtp::DeliveryOutcome::permanent:
      for (std::size_t k = 0; k < which.size(); ++k) {
        auto& rc = rcpts[which[k]];
        const smtp::Reply& reply = k < r.recipients.size() && r.recipients[k].reply.permanent()
                                       ? r.recipients[k].reply
                                       : r.reply;
        rc.state = RecipientState::failed;
        rc.last_reply = reply_text(reply);
        a.failed.push_back({which[k], status_of(reply), host_only(hop)});
      }
      trace(a, "bounced", said);
      break;
    default:
      for (auto i : which) rcpts[i].last_reply = r.reply.code ? reply_text(r.reply) : said;
      trace(a, std::string(queue::trace_event::delivery_deferred),
            fmt::format("{} ({})", said, smtp::to_string(r.outcome)));
      break;
  }
}

asio::awaitable<void> QueueManager::finish(Attempt& a) {
  if (!a.failed.empty()) {
    std::vector<std::size_t> failed;
    for (const auto& f : a.failed) failed.push_back(f.index);
    co_await send_dsns(a, queue::DsnAction::failed, failed);
    shared_.metrics.counter("cordon_gateway_bounced_total", "Recipients bounced")
        .inc(failed.size());
  }
  auto spool = spool_;
  const auto still = pending(a.envelope);
  if (!still.empty()) {
    auto decision = scheduler_.after_temporary_failure(a.envelope.arrival, a.envelope.attempts,
                                                       a.envelope.flags.delay_warning_sent, a.now);
    if (decision.outcome == queue::RetryOutcome::expire) {
      a.failed.clear();
      for (auto i : still) {
        auto& r = a.envelope.recipients[i];
        r.state = RecipientState::failed;
        a.failed.push_back({i, "4.4.7", ""});
        if (r.last_reply.empty()) r.last_reply = "message expired";
      }
      trace(a, std::string(queue::trace_event::expired),
            fmt::format("max_lifetime reached after {} attempt(s)", a.envelope.attempts));
      co_await send_dsns(a, queue::DsnAction::failed, still);
    } else {
      a.envelope.next_attempt = decision.next_attempt;
      if (decision.send_delay_warning) {
        a.envelope.flags.delay_warning_sent = true;
        co_await send_dsns(a, queue::DsnAction::delayed, still);
      }
      spdlog::info("queue {}: deferred until {} (attempt {})", a.id,
                   queue::format_rfc3339(a.envelope.next_attempt), a.envelope.attempts);
      auto defer_message = [spool, id = a.id, env = a.envelope] { return spool.defer(id, env); };
      auto deferred = co_await offload(shared_.workers, defer_message);
      if (!deferred && deferred.error().code != queue::SpoolError::not_found)
        spdlog::error("queue {}: cannot defer: {}", a.id, deferred.error().detail);
      co_return;
    }
  }
  auto remove_message = [spool, id = a.id] { return spool.remove(id); };
  auto removed = co_await offload(shared_.workers, remove_message);
  if (!removed && removed.error().code != queue::SpoolError::not_found)
    spdlog::error("queue {}: cannot remove: {}", a.id, removed.error().detail);
  else
    spdlog::info("queue {}: removed", a.id);
}

asio::awaitable<void> QueueManager::send_dsns(Attempt& a, queue::DsnAction action,
                                              const std::vector<std::size_t>& which) {
  const auto& e = a.envelope;
  if (e.sender.empty()) {
    spdlog::info("queue {}: no DSN: the message has the null sender", a.id);
    co_return;
  }
  queue::DsnRequest req;
  req.reporting_mta = hostname_;
  req.original_sender = e.sender;
  req.envid = e.params.envid;
  req.queue_id = a.id;
  req.arrival = e.arrival;
  req.ret = a.dlp_bounced ? queue::DsnReturn::headers : queue::dsn_return(e.params.ret);
  req.original = a.content;
  req.now = std::chrono::system_clock::now();
  for (auto i : which) {
    const auto& r = e.recipients[i];
    if (!queue::dsn_requested(r.notify, action)) continue;
    queue::DsnRecipient d;
    d.final_recipient = r.address;
    d.original_recipient = r.orcpt;
    d.action = action;
    d.diagnostic = r.last_reply;
    d.last_attempt = a.now;
    for (const auto& f : a.failed)
      if (f.index == i) {
        d.status = f.status;
        d.remote_mta = f.remote_mta;
      }
    if (action == queue::DsnAction::delayed) {
      d.status = "4.4.1";
      d.will_retry_until = e.arrival + a.config->gateway->retry.max_lifetime;
    }
    if (d.status.empty()) d.status = "5.0.0";
    req.recipients.push_back(std::move(d));
  }
  if (req.recipients.empty()) co_return;
  auto dsn = queue::build_dsn(req);
  if (!dsn) {
    spdlog::info("queue {}: no DSN: {}", a.id, queue::to_string(dsn.error()));
    co_return;
  }
  queue::Envelope env;
  env.sender = "";
  queue::Recipient to;
  to.address = dsn->recipient;
  env.recipients.push_back(to);
  env.arrival = env.next_attempt = req.now;
  env.flags.inspected = true;  // DSNs never go to DLP (see gateway_queue.hpp)
  const char* kind = action == queue::DsnAction::failed ? "failure" : "delay";
  env.add_trace(req.now, "queued", fmt::format("DSN ({}) for queue {}", kind, a.id));
  auto spool = spool_;
  auto queue_dsn = [spool, env,
                    content = std::move(dsn->content)]() -> queue::SpoolResult<std::string> {
    auto writer = spool.begin(env);
    if (!writer) return fail(writer.error());
    if (auto w = writer->write(content); !w) return fail(w.error());
    return writer->commit();
  };
  auto queued = co_await offload(shared_.workers, queue_dsn);
  if (!queued) {
    spdlog::error("queue {}: cannot queue the {} DSN: {}", a.id, kind, queued.error().detail);
    co_return;
  }
  trace(
      a,
      action == queue::DsnAction::delayed ? std::string(queue::trace_event::delay_warning) : "dsn",
      fmt::format("{} notice to <{}> queued as {}", kind, e.sender, *queued));
  dispatch(*queued, true);
}

}  // namespace cordon::roles::gateway
