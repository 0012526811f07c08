// The gateway's decision log line for one attempt on a queued message: a
// text line, and with log.format json its facts as members (docs/formats.md,
// "Log lines"): the verdict, the DLP outcome and host, the incident the DLP
// reply names, the reply code.
#pragma once

#include <string>

#include "queue/attempt.hpp"
#include "queue/envelope.hpp"

namespace cordon::queue {

// `before` is the envelope the attempt started from; `message_id` the
// content's Message-ID without angle brackets ("" when none).
void log_decision(const std::string& id, const Envelope& before, const std::string& message_id,
                  const AttemptReport& report);

}  // namespace cordon::queue
