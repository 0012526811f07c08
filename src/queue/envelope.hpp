// The envelope of a queued message: everything the gateway knows about a
// message apart from its content (SMTP envelope, ESMTP parameters, client,
// delivery bookkeeping and an append-only trace). Plain data; the spool
// persists it as JSON beside the content.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::queue {

using TimePoint = std::chrono::system_clock::time_point;

// Where one recipient stands. `pending` recipients are still to be tried;
// the others are final for this message.
enum class RecipientState { pending, delivered, failed };

struct Recipient {
  std::string address;  // RCPT TO address, without angle brackets
  std::string orcpt;    // ORCPT=, xtext-decoded ("rfc822;user@example"), empty if none
  std::string notify;   // NOTIFY= as received ("SUCCESS,FAILURE", "NEVER"), empty if none
  RecipientState state = RecipientState::pending;
  std::string last_reply;  // last reply from the remote side for this recipient, verbatim
  // A failed recipient's enhanced status code and the host that refused it
  // (empty for local failures such as expiry): what its DSN reports. The
  // braces keep five-field aggregate initialisations warning-free.
  std::string status{};
  std::string remote_mta{};
  // Its failure DSN could not be queued yet. A bounce is never lost: the
  // message stays queued until every owed DSN has been queued.
  bool dsn_owed = false;
};

// ESMTP MAIL FROM parameters worth keeping for delivery and DSNs.
struct MailParams {
  std::optional<std::uint64_t> size;  // SIZE=
  std::string body;                   // BODY= ("7BIT", "8BITMIME"), empty if none
  std::string ret;                    // RET= ("FULL" or "HDRS"), empty if none
  std::string envid;                  // ENVID=, xtext-decoded, empty if none
  bool smtputf8 = false;
};

struct ClientInfo {
  std::string address;   // peer IP address
  std::string hostname;  // reverse DNS name, empty if unknown
  std::string helo;      // HELO/EHLO argument
};

// Trace event names shared by the gateway, the spool and `cordon queue`.
namespace trace_event {
inline constexpr std::string_view queued = "queued";
inline constexpr std::string_view dlp_passed = "dlp-passed";
inline constexpr std::string_view dlp_deferred = "dlp-deferred";
inline constexpr std::string_view dlp_bounced = "dlp-bounced";
inline constexpr std::string_view dlp_bypass = "dlp-bypass";  // detail: the reason
inline constexpr std::string_view delivered = "delivered";
inline constexpr std::string_view delivery_deferred = "delivery-deferred";
inline constexpr std::string_view expired = "expired";
inline constexpr std::string_view delay_warning = "delay-warning";
inline constexpr std::string_view dsn = "dsn";                    // a failure DSN was queued
inline constexpr std::string_view dsn_deferred = "dsn-deferred";  // ... could not be, yet
// Written by the spool itself on operator actions.
inline constexpr std::string_view hold = "hold";
inline constexpr std::string_view released = "released";
inline constexpr std::string_view flushed = "flushed";
}  // namespace trace_event

struct TraceEvent {
  TimePoint time;
  std::string event;   // e.g. "queued", "dlp-deferred", "dlp-bypass", "dlp-bounced", "delivered"
  std::string detail;  // free text, e.g. the remote reply or the bypass reason
};

// Facts about the message's journey that decide what the gateway does next.
struct EnvelopeFlags {
  bool inspected = false;           // DLP has passed it
  bool bypassed = false;            // delivered around DLP (DLP unreachable)
  bool dlp_resubmitted = false;     // arrived back from DLP on the resubmission port
  bool delay_warning_sent = false;  // the one delay DSN has gone out
  bool dsn_headers_only = false;    // the owed DSN returns headers only (DLP refused the content)
};

struct Envelope {
  std::string sender;  // MAIL FROM address; empty is the null sender <>
  std::vector<Recipient> recipients;
  MailParams params;
  ClientInfo client;
  TimePoint arrival{};
  int attempts = 0;
  TimePoint next_attempt{};
  std::vector<TraceEvent> trace;
  EnvelopeFlags flags;
  // Set by the spool when the message is committed; used to detect a
  // truncated content file.
  std::uint64_t content_size = 0;
  // SHA-256 of the content (64 lower-case hex digits), set at commit and
  // checked before every attempt. Empty in envelopes written by versions
  // that did not record it: those are checked by size alone.
  std::string content_sha256{};
  // Bytes delivered before the content file: the header lines DLP added to
  // an inspected copy kept in the original's queue entry (Spool::
  // attach_inspected), so that the content is not written twice. Empty for
  // every other message. content_size and content_sha256 describe the
  // content file alone.
  std::string content_prefix{};

  void add_trace(TimePoint when, std::string event, std::string detail = {}) {
    trace.push_back({when, std::move(event), std::move(detail)});
  }
};

std::string_view to_string(RecipientState state);
std::optional<RecipientState> recipient_state_from_string(std::string_view text);

}  // namespace cordon::queue
