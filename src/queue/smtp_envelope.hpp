// The queue's envelope in SMTP's terms and back: ESMTP parameters as the
// SMTP server parsed them (xtext-encoded, RFC 3461) become the queue's
// decoded form when a message is received, and are encoded again for the
// next hop. Also the domain of an address, for relay control.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "queue/envelope.hpp"
#include "smtp/client.hpp"
#include "smtp/command.hpp"

namespace cordon::queue {

// RFC 3461 xtext. Decoding leaves a malformed "+XX" as it is.
std::string xtext_decode(std::string_view text);
std::string xtext_encode(std::string_view text);

MailParams to_queue_params(const smtp::MailParams& params);
smtp::MailParams to_smtp_params(const MailParams& params);
Recipient to_queue_recipient(const smtp::RcptTo& rcpt);
smtp::RcptTo to_smtp_recipient(const Recipient& recipient);

// The SMTP envelope for sending the recipients `which` of `envelope`.
smtp::DeliveryEnvelope delivery_envelope(const Envelope& envelope,
                                         std::span<const std::size_t> which);

// The domain of an address, lower case; empty when there is none.
std::string domain_of(std::string_view address);

}  // namespace cordon::queue
