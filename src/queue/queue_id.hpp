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

}  // namespace cordon::queue
