// Envelope conversions between the SMTP server/client and the queue (see
// smtp_envelope.hpp).
#include "queue/smtp_envelope.hpp"

#include <fmt/format.h>

#include "queue/time_format.hpp"
#include "util/ascii.hpp"

namespace cordon::queue {

MailParams to_queue_params(const smtp::MailParams& params) {
  MailParams out;
  out.size = params.size;
  if (params.body == smtp::Body::seven_bit) out.body = "7BIT";
  if (params.body == smtp::Body::eight_bit_mime) out.body = "8BITMIME";
  if (params.ret == smtp::DsnRet::full) out.ret = "FULL";
  if (params.ret == smtp::DsnRet::hdrs) out.ret = "HDRS";
  out.envid = xtext_decode(params.envid);
  out.smtputf8 = params.smtputf8;
  return out;
}

smtp::MailParams to_smtp_params(const MailParams& params) {
  smtp::MailParams out;
  out.size = params.size;
  if (params.body == "7BIT") out.body = smtp::Body::seven_bit;
  if (params.body == "8BITMIME") out.body = smtp::Body::eight_bit_mime;
  if (params.ret == "FULL") out.ret = smtp::DsnRet::full;
  if (params.ret == "HDRS") out.ret = smtp::DsnRet::hdrs;
  out.envid = xtext_encode(params.envid);
  out.smtputf8 = params.smtputf8;
  return out;
}

Recipient to_queue_recipient(const smtp::RcptTo& rcpt) {
  Recipient out;
  out.address = rcpt.recipient;
  out.notify = rcpt.params.notify;
  // ORCPT is "addr-type;xtext": only the address part is encoded.
  if (auto semi = rcpt.params.orcpt.find(';'); semi != std::string::npos)
    out.orcpt =
        rcpt.params.orcpt.substr(0, semi + 1) + xtext_decode(rcpt.params.orcpt.substr(semi + 1));
  return out;
}

smtp::RcptTo to_smtp_recipient(const Recipient& recipient) {
  smtp::RcptTo out;
  out.recipient = recipient.address;
  out.params.notify = recipient.notify;
  if (auto semi = recipient.orcpt.find(';'); semi != std::string::npos)
    out.params.orcpt =
        recipient.orcpt.substr(0, semi + 1) + xtext_encode(recipient.orcpt.substr(semi + 1));
  return out;
}

Envelope received_envelope(const smtp::SessionInfo& session, std::string_view client_ip,
                           Arrival arrival, TimePoint now) {
  Envelope e;
  if (session.mail) {
    e.sender = session.mail->sender;
    e.params = to_queue_params(session.mail->params);
  }
  for (const auto& r : session.recipients) e.recipients.push_back(to_queue_recipient(r));
  e.client = {std::string(client_ip), "", session.helo_name};
  e.arrival = now;
  e.next_attempt = now;
  if (arrival == Arrival::resubmitted) {
    e.flags.inspected = true;
    e.flags.dlp_resubmitted = true;
    e.add_trace(now, std::string(trace_event::queued),
                "resubmitted by DLP host " + std::string(client_ip));
  } else {
    e.add_trace(now, std::string(trace_event::queued),
                fmt::format("from {} [{}]", session.helo_name, client_ip));
  }
  return e;
}

std::string received_header(const smtp::SessionInfo& session, std::string_view client_ip,
                            std::string_view by_host, std::string_view queue_id, TimePoint now) {
  return fmt::format("Received: from {} ([{}])\r\n\tby {} (cordon) with {}{} id {};\r\n\t{}\r\n",
                     session.helo_name.empty() ? "unknown" : session.helo_name, client_ip, by_host,
                     session.esmtp ? "ESMTP" : "SMTP", session.tls ? "S" : "", queue_id,
                     format_rfc5322(now));
}

std::vector<std::string> delivery_headers(const Envelope& e) {
  if (!e.flags.bypassed || e.flags.inspected) return {};
  // The reason is the first word of the dlp-bypass trace entry, which may
  // come from an earlier attempt.
  std::string reason = "unknown";
  for (auto it = e.trace.rbegin(); it != e.trace.rend(); ++it) {
    if (it->event == trace_event::dlp_bypass) {
      reason = it->detail.substr(0, it->detail.find(':'));
      break;
    }
  }
  return {"X-Cordon-DLP: bypassed, not inspected (" + reason + ")"};
}

smtp::DeliveryEnvelope delivery_envelope(const Envelope& envelope,
                                         std::span<const std::size_t> which) {
  smtp::DeliveryEnvelope d;
  d.sender = envelope.sender;
  d.params = to_smtp_params(envelope.params);
  for (auto i : which) d.recipients.push_back(to_smtp_recipient(envelope.recipients[i]));
  return d;
}

std::string domain_of(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return util::to_lower(address.substr(at + 1));
}

}  // namespace cordon::queue
