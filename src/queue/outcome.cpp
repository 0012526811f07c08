// Delivery results -> recipient states (rules in outcome.hpp).
#include "queue/outcome.hpp"

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
          r.state = RecipientState::failed;
          r.last_reply = reply_text(reply);
          out.failed.push_back({which[k], status_of(reply), host_only(remote)});
        } else {
          r.last_reply = reply_text(reply);
          out.pending.push_back(which[k]);
        }
        break;
      }
      case smtp::DeliveryOutcome::permanent: {
        const smtp::Reply& reply =
            has_own && per_rcpt[k].reply.permanent() ? per_rcpt[k].reply : result.reply;
        r.state = RecipientState::failed;
        r.last_reply = reply_text(reply);
        out.failed.push_back({which[k], status_of(reply), host_only(remote)});
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

}  // namespace cordon::queue
