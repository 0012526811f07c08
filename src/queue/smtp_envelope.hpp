// The queue's envelope in SMTP's terms and back: what the gateway records
// of a message it receives (envelope, Received header) and what it hands
// on. ESMTP parameters as the SMTP server parsed them (xtext-encoded,
// RFC 3461) become the queue's decoded form when a message is received, and
// are encoded again for the next hop. Also the domain of an address, for
// relay control.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.hpp"
#include "smtp/client.hpp"
#include "smtp/command.hpp"
#include "smtp/handler.hpp"

namespace cordon::queue {

// RFC 3461 xtext, as the SMTP component codes it.
using smtp::xtext_decode;
using smtp::xtext_encode;

MailParams to_queue_params(const smtp::MailParams& params);
smtp::MailParams to_smtp_params(const MailParams& params);
Recipient to_queue_recipient(const smtp::RcptTo& rcpt);
smtp::RcptTo to_smtp_recipient(const Recipient& recipient);

// How a message reached the gateway.
enum class Arrival {
  client,      // from a user or an upstream MTA
  resubmitted  // back from DLP on the resubmission port: inspected
};

// The envelope of the message of `session`'s transaction, received now
// from `client_ip`, due at once, with its first trace entry.
Envelope received_envelope(const smtp::SessionInfo& session, std::string_view client_ip,
                           Arrival arrival, TimePoint now);

// The Received: header (RFC 5321 4.4) the gateway puts on top of it, CRLF
// included.
std::string received_header(const smtp::SessionInfo& session, std::string_view client_ip,
                            std::string_view by_host, std::string_view queue_id, TimePoint now);

// Header lines ("Name: value") put on top for the next hop: an
// X-Cordon-DLP notice, with the reason, when the message bypassed DLP.
std::vector<std::string> delivery_headers(const Envelope& envelope);

// The SMTP envelope for sending the recipients `which` of `envelope`.
smtp::DeliveryEnvelope delivery_envelope(const Envelope& envelope,
                                         std::span<const std::size_t> which);

// The domain of an address, lower case; empty when there is none.
std::string domain_of(std::string_view address);

}  // namespace cordon::queue
