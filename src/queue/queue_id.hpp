// Queue ids: 16 characters of Crockford base32, the first 11 the arrival
// time in microseconds (so ids sort by arrival), the last 5 random (so two
// processes receiving in the same microsecond still differ). Safe as file
// names and in SMTP replies and log lines.
#pragma once

#include <string>
#include <string_view>

#include "queue/envelope.hpp"

namespace cordon::queue {

std::string make_queue_id(TimePoint now);

// True for exactly the strings make_queue_id can return; the CLI checks
// ids with it before they come near a path.
bool is_valid_queue_id(std::string_view id);

// The header the gateway puts on top of a message it hands to DLP, so that
// the inspected copy DLP sends back can name its original queue entry.
inline constexpr std::string_view kQueueIdHeader = "X-Cordon-Queue-Id";

// The value of that header in `header` (the start of a message, CRLF line
// ends; it need not be the whole header section); empty when it is not
// there or its line is not complete.
std::string find_queue_id_header(std::string_view header);

}  // namespace cordon::queue
