// Masking helpers behind detect::mask() and the per-identifier samples:
// every sample the engine returns goes through one of these, so a full
// secret never leaves the engine. Internal to src/detect.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cordon::detect::masking {

// Keeps `front` leading and `back` trailing code points of `value` and
// replaces the others with '*' (at most `max_stars` of them). Callers
// choose front + back well below the value's length.
std::string keep_ends(std::string_view value, std::size_t front, std::size_t back,
                      std::size_t max_stars = 32);

// Cuts `value` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view value, std::size_t max_bytes);

}  // namespace cordon::detect::masking
