// Date formats the queue writes: RFC 3339 (envelopes, `cordon queue list`)
// and RFC 5322 (DSN headers and Arrival-Date / Last-Attempt-Date fields).
// Always UTC, so output never depends on the host's time zone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "queue/envelope.hpp"

namespace cordon::queue {

// "2026-11-22T20:16:22.123Z" (milliseconds, UTC).
std::string format_rfc3339(TimePoint t);

// Parses what format_rfc3339 writes, also without fraction; "Z" only.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// "Sun, 22 Nov 2026 20:16:22 +0000".
std::string format_rfc5322(TimePoint t);

}  // namespace cordon::queue
