// Builds RFC 3464 delivery status notifications: a human-readable part
// quoting the remote reply, the machine-readable message/delivery-status
// part, and the original headers (or the whole original for RET=FULL).
#include "queue/dsn.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "queue/detail/dsn_encoding.hpp"
#include "queue/detail/fs_ops.hpp"
#include "queue/time_format.hpp"

namespace cordon::queue {
namespace {

using namespace dsn_encoding;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The header section of a message, without the blank line that ends it.
std::string_view header_section(std::string_view message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    std::string_view line =
        message.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.empty() || line == "\r") return message.substr(0, pos);
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return message;
}

// The fields of `header` (unfolded lines kept as written) called Date or
// Message-ID, the first of each: what names a message without saying
// anything of its content.
std::string identifying_fields(std::string_view header) {
  std::string out;
  bool keep = false, have_date = false, have_id = false;
  for (std::string_view line : split_lines(header)) {
    const bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (!continuation) {
      const auto colon = line.find(':');
      std::string name = upper(line.substr(0, colon == std::string_view::npos ? 0 : colon));
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      keep = (name == "DATE" && !have_date) || (name == "MESSAGE-ID" && !have_id);
      have_date = have_date || name == "DATE";
      have_id = have_id || name == "MESSAGE-ID";
    }
    if (keep) {
      out += line;
      out += "\r\n";
    }
  }
  return out;
}

bool looks_like_ip(std::string_view host) {
  if (host.empty()) return false;
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

std::string remote_mta_field(std::string_view host) {
  std::string h = printable_ascii(host);
  if (looks_like_ip(h)) h = (h.find(':') != std::string::npos ? "[IPv6:" : "[") + h + "]";
  return "dns; " + h;
}

// The reply as one line for Diagnostic-Code (folded by fold_field).
std::string diagnostic_line(std::string_view reply) {
  std::string joined;
  for (std::string_view line : split_lines(reply)) {
    if (!joined.empty()) joined += ' ';
    joined += printable_ascii(line);
  }
  return joined;
}

struct Part {
  std::string headers;  // each ending in CRLF
  std::string body;     // ending in CRLF
  bool eight_bit = false;
};

Part notification_part(const DsnRequest& r, bool any_failed, bool any_delayed,
                       bool headers_only_fallback) {
  std::string text = "This is the mail system at host " + r.reporting_mta + ".\r\n\r\n";
  if (any_failed)
    text +=
        "Your message could not be delivered to one or more recipients.\r\n"
        "The reasons are below; the attached report has the details.\r\n\r\n";
  if (any_delayed)
    text +=
        "Your message has not been delivered yet to one or more recipients.\r\n"
        "The mail system will keep trying; you do not need to send it again.\r\n\r\n";
  if (!r.queue_id.empty()) text += "Queue id: " + r.queue_id + "\r\n\r\n";
  for (const auto& rcpt : r.recipients) {
    text += "<" + rcpt.final_recipient + ">: ";
    text += rcpt.action == DsnAction::failed ? "delivery failed" : "delivery delayed";
    if (rcpt.will_retry_until)
      text += ", will retry until " + format_rfc5322(*rcpt.will_retry_until);
    if (!rcpt.diagnostic.empty()) {
      text +=
          rcpt.remote_mta.empty() ? ", the remote server said:" : ", " + rcpt.remote_mta + " said:";
      text += "\r\n";
      for (std::string_view line : split_lines(rcpt.diagnostic))
        text += "    " + std::string(line) + "\r\n";
    } else {
      text += "\r\n";
    }
    text += "\r\n";
  }
  if (headers_only_fallback)
    text +=
        "Only the headers of your message are attached: its body has lines too long to return.\r\n";
  if (r.ret == DsnReturn::identifying_headers)
    text +=
        "Only the Date and Message-ID of your message are attached: it was stopped or not yet\r\n"
        "passed by the data loss prevention policy, and a notice never returns its content.\r\n";
  if (r.ret == DsnReturn::nothing)
    text +=
        "Your message is not attached: it was stopped or not yet passed by the data loss\r\n"
        "prevention policy, and a notice never returns its content.\r\n";
  Part part;
  bool needs_encoding = has_8bit(text);
  for (std::string_view line : split_lines(text)) needs_encoding |= line.size() > kMaxLine;
  part.headers = "Content-Description: Notification\r\n";
  if (needs_encoding) {
    part.headers +=
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
        "quoted-printable\r\n";
    part.body = quoted_printable(text);
  } else {
    part.headers += "Content-Type: text/plain; charset=us-ascii\r\n";
    part.body = text;
  }
  return part;
}

Part status_part(const DsnRequest& r) {
  std::string body;
  body += fold_field("Reporting-MTA", "dns; " + printable_ascii(r.reporting_mta));
  if (!r.queue_id.empty()) body += fold_field("X-Cordon-Queue-ID", printable_ascii(r.queue_id));
  if (!r.envid.empty()) body += fold_field("Original-Envelope-Id", printable_ascii(r.envid));
  body += fold_field("Arrival-Date", format_rfc5322(r.arrival));
  for (const auto& rcpt : r.recipients) {
    body += "\r\n";
    if (!rcpt.original_recipient.empty()) {
      std::string orcpt = printable_ascii(rcpt.original_recipient);
      // "rfc822;addr" -> "rfc822; addr", the form RFC 3464 shows.
      if (auto semi = orcpt.find(';');
          semi != std::string::npos && semi + 1 < orcpt.size() && orcpt[semi + 1] != ' ')
        orcpt.insert(semi + 1, " ");
      body += fold_field("Original-Recipient", orcpt);
    }
    body += fold_field("Final-Recipient", "rfc822; " + printable_ascii(rcpt.final_recipient));
    body += fold_field("Action", rcpt.action == DsnAction::failed ? "failed" : "delayed");
    body += fold_field("Status", printable_ascii(rcpt.status));
    if (!rcpt.remote_mta.empty())
      body += fold_field("Remote-MTA", remote_mta_field(rcpt.remote_mta));
    if (!rcpt.diagnostic.empty())
      body += fold_field("Diagnostic-Code", "smtp; " + diagnostic_line(rcpt.diagnostic));
    body += fold_field("Last-Attempt-Date", format_rfc5322(rcpt.last_attempt));
    if (rcpt.will_retry_until)
      body += fold_field("Will-Retry-Until", format_rfc5322(*rcpt.will_retry_until));
  }
  Part part;
  part.headers =
      "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n";
  part.body = std::move(body);
  return part;
}

Part original_part(const DsnRequest& r, bool& headers_only_fallback) {
  Part part;
  bool cut = false;
  if (r.ret == DsnReturn::full) {
    std::string full = normalise_lines(r.original, cut);
    if (!cut) {
      part.eight_bit = has_8bit(full);
      part.headers = "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n";
      part.body = std::move(full);
    } else {
      headers_only_fallback = true;
      cut = false;
    }
  }
  if (part.body.empty()) {
    const std::string_view header = header_section(r.original);
    part.body = r.ret == DsnReturn::identifying_headers
                    ? normalise_lines(identifying_fields(header), cut)
                    : normalise_lines(header, cut);
    part.eight_bit = has_8bit(part.body);
    part.headers =
        "Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n";
  }
  if (part.eight_bit) part.headers += "Content-Transfer-Encoding: 8bit\r\n";
  return part;
}

}  // namespace

std::string_view to_string(DsnError error) {
  switch (error) {
    case DsnError::null_sender:
      return "the original sender is null: no DSN for a DSN";
    case DsnError::no_recipients:
      return "no recipients to report";
  }
  return "unknown";
}

bool dsn_requested(std::string_view notify, DsnAction action) {
  std::string n = upper(notify);
  if (n.empty()) return true;
  if (n.find("NEVER") != std::string::npos) return false;
  return n.find(action == DsnAction::failed ? "FAILURE" : "DELAY") != std::string::npos;
}

DsnReturn dsn_return(std::string_view ret_param) {
  return upper(ret_param) == "FULL" ? DsnReturn::full : DsnReturn::headers;
}

bool sender_is_local(std::string_view sender, std::span<const std::string> local_domains) {
  const auto at = sender.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string domain(sender.substr(at + 1));
  for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(local_domains.begin(), local_domains.end(), domain) != local_domains.end();
}

DsnRequest dsn_request(const Envelope& e, DsnAction action, std::span<const std::size_t> which,
                       const DsnContext& context) {
  DsnRequest req;
  req.reporting_mta = context.reporting_mta;
  req.original_sender = e.sender;
  req.envid = e.params.envid;
  req.queue_id = context.queue_id;
  req.arrival = e.arrival;
  // Bypass is the administrator's choice to deliver around DLP: such
  // content is returned as for any MTA.
  const bool passed = e.flags.inspected || e.flags.bypassed;
  if (context.dlp_refused || !passed)
    req.ret = context.sender_local ? DsnReturn::identifying_headers : DsnReturn::nothing;
  else
    req.ret = dsn_return(e.params.ret);
  req.original = context.original;
  req.now = context.now;
  for (auto i : which) {
    const auto& r = e.recipients[i];
    if (!dsn_requested(r.notify, action)) continue;
    DsnRecipient d;
    d.final_recipient = r.address;
    d.original_recipient = r.orcpt;
    d.action = action;
    d.diagnostic = r.last_reply;
    d.last_attempt = context.last_attempt;
    if (action == DsnAction::delayed) {
      d.status = "4.4.1";
      d.will_retry_until = context.will_retry_until;
    } else {
      d.status = r.status.empty() ? "5.0.0" : r.status;
      d.remote_mta = r.remote_mta;
    }
    req.recipients.push_back(std::move(d));
  }
  return req;
}

Envelope dsn_envelope(const DsnMessage& dsn, DsnAction action, std::string_view original_id,
                      TimePoint now) {
  Envelope env;
  env.sender = dsn.envelope_sender;
  Recipient to;
  to.address = dsn.recipient;
  env.recipients.push_back(std::move(to));
  env.arrival = env.next_attempt = now;
  env.flags.inspected = true;
  env.add_trace(now, std::string(trace_event::queued),
                fmt::format("DSN ({}) for queue {}",
                            action == DsnAction::failed ? "failure" : "delay", original_id));
  return env;
}

Result<QueuedDsn, DsnError> make_dsn(const Envelope& envelope, DsnAction action,
                                     std::span<const std::size_t> which,
                                     const DsnContext& context) {
  if (envelope.sender.empty()) return fail(DsnError::null_sender);
  auto dsn = build_dsn(dsn_request(envelope, action, which, context));
  if (!dsn) return fail(dsn.error());
  return QueuedDsn{dsn_envelope(*dsn, action, context.queue_id, context.now),
                   std::move(dsn->content)};
}

Result<DsnMessage, DsnError> build_dsn(const DsnRequest& r) {
  if (r.original_sender.empty()) return fail(DsnError::null_sender);
  if (r.recipients.empty()) return fail(DsnError::no_recipients);
  bool any_failed = std::any_of(r.recipients.begin(), r.recipients.end(),
                                [](const auto& x) { return x.action == DsnAction::failed; });
  bool any_delayed = std::any_of(r.recipients.begin(), r.recipients.end(),
                                 [](const auto& x) { return x.action == DsnAction::delayed; });

  bool headers_only_fallback = false;
  std::optional<Part> original;
  if (r.ret != DsnReturn::nothing) original = original_part(r, headers_only_fallback);
  std::vector<Part> parts;
  parts.push_back(notification_part(r, any_failed, any_delayed, headers_only_fallback));
  parts.push_back(status_part(r));
  if (original) parts.push_back(std::move(*original));
  bool eight_bit =
      std::any_of(parts.begin(), parts.end(), [](const Part& p) { return p.eight_bit; });

  std::string boundary;
  for (;;) {
    boundary = "=_cordon_dsn_" + fs_ops::random_token() + fs_ops::random_token();
    bool clash = std::any_of(parts.begin(), parts.end(), [&](const Part& p) {
      return p.body.find(boundary) != std::string::npos;
    });
    if (!clash) break;
  }

  std::string host = printable_ascii(r.reporting_mta);
  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" + host + ">\r\n";
  // The address is the sender's own; with SMTPUTF8 it may be UTF-8, which
  // RFC 6532 allows in a header as it stands (RFC 2047 cannot encode an
  // address).
  out += fold_field("To", "<" + r.original_sender + ">");
  out += any_failed ? "Subject: Undelivered Mail Returned to Sender\r\n"
                    : "Subject: Delayed Mail (still being retried)\r\n";
  out += "Date: " + format_rfc5322(r.now) + "\r\n";
  out += "Message-ID: <" + (r.queue_id.empty() ? std::string("dsn") : printable_ascii(r.queue_id)) +
         "." + fs_ops::random_token() + "@" + host + ">\r\n";
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
  out += "\tboundary=\"" + boundary + "\"\r\n";
  out += std::string("Content-Transfer-Encoding: ") + (eight_bit ? "8bit" : "7bit") + "\r\n";
  out += "\r\nThis is a MIME-encapsulated message.\r\n";
  for (const Part& p : parts) {
    out += "\r\n--" + boundary + "\r\n";
    out += p.headers;
    out += "\r\n";
    out += p.body;
  }
  out += "\r\n--" + boundary + "--\r\n";
  return DsnMessage{"", r.original_sender, std::move(out)};
}

}  // namespace cordon::queue
