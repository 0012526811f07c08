// Delivery results -> recipient states (rules in outcome.hpp).
#include "queue/outcome.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace cordon::queue {
namespace {

// A reply as it travelled, without the final CRLF (DSN Diagnostic-Code).
std::string reply_text(const smtp::Reply& r) {
  std::string wire = r.wire();
  while (!wire.empty() && (wire.back() == '\n' || wire.back() == '\r')) wire.pop_back();
  return wire;
}

std::string status_of(const smtp::Reply& r) {
  if (!r.enhanced.empty()) return r.enhanced;
  return r.code >= 500 ? "5.0.0" : "4.0.0";
}

// "host:port" or "[v6]:port" -> the host, for the DSN's Remote-MTA.
std::string host_only(std::string_view host_port) {
  auto colon = host_port.rfind(':');
  std::string_view host = colon == std::string_view::npos ? host_port : host_port.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::string(host);
}

// A recipient failed, with what its DSN will say.
void mark_failed(Recipient& recipient, std::string last_reply, std::string status,
                 std::string remote_mta) {
  recipient.state = RecipientState::failed;
  recipient.last_reply = std::move(last_reply);
  recipient.status = std::move(status);
  recipient.remote_mta = std::move(remote_mta);
}

}  // namespace

Outcome apply_result(Envelope& envelope, std::span<const std::size_t> which, Step step,
                     const smtp::DeliveryResult& result, std::string_view remote,
                     std::string_view detail) {
  Outcome out;
  const auto& per_rcpt = result.recipients;
  for (std::size_t k = 0; k < which.size(); ++k) {
    auto& r = envelope.recipients[which[k]];
    const bool has_own = k < per_rcpt.size();
    switch (result.outcome) {
      case smtp::DeliveryOutcome::ok: {
        const smtp::Reply& reply = has_own ? per_rcpt[k].reply : result.reply;
        if (reply.positive()) {
          r.state = RecipientState::delivered;
          r.last_reply = reply_text(result.reply);
          out.delivered.push_back(which[k]);
        } else if (reply.permanent()) {
          mark_failed(r, reply_text(reply), status_of(reply), host_only(remote));
          out.failed.push_back({which[k], r.status, r.remote_mta});
        } else {
          r.last_reply = reply_text(reply);
          out.pending.push_back(which[k]);
        }
        break;
      }
      case smtp::DeliveryOutcome::permanent: {
        const smtp::Reply& reply =
            has_own && per_rcpt[k].reply.permanent() ? per_rcpt[k].reply : result.reply;
        mark_failed(r, reply_text(reply), status_of(reply), host_only(remote));
        out.failed.push_back({which[k], r.status, r.remote_mta});
        break;
      }
      default:
        r.last_reply = result.reply.code ? reply_text(result.reply) : std::string(detail);
        out.pending.push_back(which[k]);
        break;
    }
  }
  out.headers_only = step == Step::dlp && !out.failed.empty();
  return out;
}

std::vector<std::size_t> pending_recipients(const Envelope& envelope) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i)
    if (envelope.recipients[i].state == RecipientState::pending) out.push_back(i);
  return out;
}

std::string describe(std::string_view remote, const smtp::DeliveryResult& result) {
  if (result.reply.code == 0) return fmt::format("{}: {}", remote, result.detail);
  std::string out = fmt::format("{} said: ", remote);
  for (std::size_t i = 0; i < result.reply.lines.size(); ++i)
    out += (i == 0 ? std::to_string(result.reply.code) + " " : " / ") + result.reply.lines[i];
  return out;
}

RetryPlan plan_retry(Envelope& e, RetryScheduler& scheduler, TimePoint now) {
  RetryPlan plan;
  plan.recipients = pending_recipients(e);
  if (plan.recipients.empty()) return plan;
  auto decision =
      scheduler.after_temporary_failure(e.arrival, e.attempts, e.flags.delay_warning_sent, now);
  if (decision.outcome == RetryOutcome::expire) {
    plan.expired = true;
    for (auto i : plan.recipients) {
      auto& r = e.recipients[i];
      mark_failed(r, r.last_reply.empty() ? "message expired" : r.last_reply, "4.4.7", "");
    }
    return plan;
  }
  e.next_attempt = decision.next_attempt;
  plan.send_delay_warning = decision.send_delay_warning;
  return plan;
}

bool settle(Envelope& e, RetryScheduler& scheduler, bool dsn_headers_only, TimePoint now) {
  const bool owed = std::any_of(e.recipients.begin(), e.recipients.end(),
                                [](const Recipient& r) { return r.dsn_owed; });
  e.flags.dsn_headers_only = owed && dsn_headers_only;
  if (!pending_recipients(e).empty()) return true;
  if (!owed) return false;
  e.next_attempt = now + scheduler.delay_after(e.attempts);
  return true;
}

}  // namespace cordon::queue
