// Delivery Status Notifications (RFC 3464): the multipart/report message
// the gateway sends back to a sender when a message bounces (DLP's 5xx,
// max_lifetime reached) or, once, when it has been delayed for long.
//
// The DSN goes out with the null reverse-path (<>), and none is ever built
// for a message that itself had the null sender: a bounce of a bounce
// would loop between two MTAs.
//
// A DSN never carries content DLP refused or has not passed: DSNs are not
// inspected, and the envelope sender is whatever the client wrote in MAIL
// FROM, so a bounce would otherwise carry the blocked data (a card number
// in the Subject, a secret in an X- header) to any address outside. Such a
// DSN returns nothing of the original to a sender outside the local
// domains, and only its Date and Message-ID to a local one (see
// dsn_request).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.hpp"
#include "util/result.hpp"

namespace cordon::queue {

enum class DsnAction { failed, delayed };
// What of the original a DSN returns: RET=HDRS (and the default), RET=FULL,
// or, for content DLP refused or has not passed, only the fields that name
// the message (Date, Message-ID) or nothing at all (RFC 6522 makes the
// third part optional).
enum class DsnReturn { headers, full, identifying_headers, nothing };

struct DsnRecipient {
  std::string final_recipient;     // the address tried (RCPT TO)
  std::string original_recipient;  // ORCPT, xtext-decoded ("rfc822;addr"); empty if none
  DsnAction action = DsnAction::failed;
  std::string status;      // enhanced status code, "5.7.0" / "4.4.1"
  std::string remote_mta;  // host name or address (no port) of the remote side; empty if unknown
  // The remote reply verbatim, possibly multi-line ("550-5.7.0 ...\r\n550 5.7.0 ...").
  std::string diagnostic;
  TimePoint last_attempt{};
  std::optional<TimePoint> will_retry_until;  // delayed only
};

struct DsnRequest {
  std::string reporting_mta;    // this host's name, e.g. "gateway.example.com"
  std::string original_sender;  // where the DSN goes; empty = null sender
  std::string envid;            // ENVID, xtext-decoded; empty if none
  std::string queue_id;         // of the original message, for the human-readable part
  TimePoint arrival{};
  std::vector<DsnRecipient> recipients;
  DsnReturn ret = DsnReturn::headers;
  std::string_view original;  // the original message as queued
  TimePoint now{};
};

struct DsnMessage {
  std::string envelope_sender;  // always empty: MAIL FROM:<>
  std::string recipient;        // the original sender
  std::string content;          // CRLF line ends, every line at most 998 octets
};

enum class DsnError {
  null_sender,    // the original had MAIL FROM:<>: never answer a bounce with a bounce
  no_recipients,  // nothing to report
};

std::string_view to_string(DsnError error);

Result<DsnMessage, DsnError> build_dsn(const DsnRequest& request);

// What a DSN about a queued message needs besides its envelope.
struct DsnContext {
  std::string reporting_mta;
  std::string queue_id;
  std::string_view original;  // the message as queued
  // DLP refused the content (a 5xx from a DLP host).
  bool dlp_refused = false;
  // The DSN goes to a local sender: the sender's domain is one of
  // gateway.local_domains, so the notice stays inside the organisation.
  bool sender_local = false;
  TimePoint last_attempt{};
  TimePoint will_retry_until{};  // delayed DSNs: arrival + max_lifetime
  TimePoint now{};
};

// The request for a DSN of `action` about the recipients `which` of
// `envelope`: only those whose NOTIFY= asks for one, each with its
// last_reply as the diagnostic and its status and remote MTA (a delay:
// 4.4.1, and until when it is retried). Without recipients when none asked.
// What of the original it returns follows RET= for content DLP passed (or
// that was delivered around DLP by bypass); for content DLP refused or has
// not passed yet (a delay or expiry while DLP defers it): nothing for a
// sender outside the local domains, Date and Message-ID for a local one.
// No other field is safe: the gateway does not know which one held the
// finding.
DsnRequest dsn_request(const Envelope& envelope, DsnAction action,
                       std::span<const std::size_t> which, const DsnContext& context);

// The envelope a DSN is queued with: from <> to the original sender, and
// marked inspected. DSNs never go to DLP: they carry only what the sender
// sent (and nothing DLP stopped, see dsn_request), and inspecting them would
// block the very notice that tells the sender why a message was stopped.
Envelope dsn_envelope(const DsnMessage& dsn, DsnAction action, std::string_view original_id,
                      TimePoint now);

// A DSN ready to be committed to the spool.
struct QueuedDsn {
  Envelope envelope;
  std::string content;
};

// dsn_request, build_dsn and dsn_envelope in one: null_sender for a
// message from <>, no_recipients when no recipient asked for this DSN.
Result<QueuedDsn, DsnError> make_dsn(const Envelope& envelope, DsnAction action,
                                     std::span<const std::size_t> which, const DsnContext& context);

// Whether a recipient's NOTIFY= parameter asks for a DSN of this kind.
// Without NOTIFY, failures and delays are reported (RFC 3461 4.1 leaves
// the default to the MTA; this is what Postfix and Sendmail do).
bool dsn_requested(std::string_view notify, DsnAction action);

// The RET a DSN should use for a message's RET= parameter.
DsnReturn dsn_return(std::string_view ret_param);

// Whether `sender`'s domain is one of `local_domains` (lower case, exact,
// as gateway.local_domains is matched for recipients).
bool sender_is_local(std::string_view sender, std::span<const std::string> local_domains);

}  // namespace cordon::queue
