// What one attempt did to a queued message's recipients. The gateway hands
// a message's pending recipients first to DLP and then to the next hop; both
// answer with an smtp::DeliveryResult, and this is the one place that turns
// such a result into recipient states:
//
//  - the transaction was accepted (ok): per recipient, a 2xx RCPT reply
//    delivered it, a 5xx failed it, a 4xx leaves it pending (retried);
//  - any 5xx decided the transaction (permanent): every recipient failed,
//    with its own 5xx RCPT reply if it had one, else the deciding reply;
//  - anything else (4xx, no connection, timeout, TLS): every recipient
//    stays pending.
//
// Each recipient's last_reply records what was said about it; a failed
// recipient's enhanced status and the remote host are kept on it (and
// listed in the Outcome) for the DSN.
//
// After the attempt, plan_retry() and settle() decide what becomes of the
// message: retried on the schedule, expired (4.4.7), kept while a bounce is
// still owed, or removed.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.hpp"
#include "queue/schedule.hpp"
#include "smtp/client.hpp"

namespace cordon::queue {

// Who gave the result: DLP (its 5xx refuses the content) or the next hop.
enum class Step { dlp, delivery };

struct RecipientFailure {
  std::size_t index;       // into Envelope::recipients
  std::string status;      // enhanced status code, "5.7.0"
  std::string remote_mta;  // host (no port) that refused it; empty for local failures
};

struct Outcome {
  std::vector<std::size_t> delivered;
  std::vector<RecipientFailure> failed;
  std::vector<std::size_t> pending;
  // DLP refused these recipients: their DSN returns the headers only, so
  // that it never echoes the content DLP stopped.
  bool headers_only = false;
};

// Applies `result` of sending the recipients `which` (indices into
// envelope.recipients, in the order they were sent) to `remote`
// ("host:port"). `detail` is recorded as last_reply when the result has no
// reply at all (no connection, a timeout). Only those recipients change.
Outcome apply_result(Envelope& envelope, std::span<const std::size_t> which, Step step,
                     const smtp::DeliveryResult& result, std::string_view remote,
                     std::string_view detail);

// Indices of the recipients still pending.
std::vector<std::size_t> pending_recipients(const Envelope& envelope);

// "host:port said: 250 line / line", or "host:port: <detail>" when there
// was no reply: a result on one line, for log lines and trace details.
std::string describe(std::string_view remote, const smtp::DeliveryResult& result);

// What the retry policy makes of the recipients still pending after an
// attempt (the attempt counted in envelope.attempts).
struct RetryPlan {
  std::vector<std::size_t> recipients;  // those still pending before the call
  bool expired = false;                 // max_lifetime reached: now failed with 4.4.7
  bool send_delay_warning = false;      // retried: send the one delay DSN for them now
};

// On expiry marks them failed (4.4.7); else sets next_attempt. Nothing
// pending: an empty plan, the envelope untouched.
RetryPlan plan_retry(Envelope& envelope, RetryScheduler& scheduler, TimePoint now);

// The end of an attempt, once its DSNs were tried. True: the message stays
// queued (deferred), because a recipient is still pending (next_attempt as
// planned) or a failure DSN is still owed (next_attempt: the schedule's
// delay from now; a message owing a bounce never expires). False: every
// recipient is final and reported, remove it. `dsn_headers_only` is what
// an owed DSN will return (kept in the envelope's flags).
bool settle(Envelope& envelope, RetryScheduler& scheduler, bool dsn_headers_only, TimePoint now);

}  // namespace cordon::queue
