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
// recipient's enhanced status and the remote host go into the Outcome, for
// the DSN.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.hpp"
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

}  // namespace cordon::queue
