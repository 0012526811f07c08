// Durations as configuration writes them ("500ms", "5s", "90m", "2d"):
// the text form components log a duration in, so a logged value reads
// the way it is configured.
#pragma once

#include <chrono>
#include <string>

namespace cordon::util {

// The shortest exact text of a duration: "0s", "500ms", "5s", "90m", "2d".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace cordon::util
