// The text form of durations (see duration.hpp).
#include "util/duration.hpp"

#include <cstdint>
#include <utility>

namespace cordon::util {

std::string format_duration(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms == 0) return "0s";
  static constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [per, unit] : kUnits)
    if (ms % per == 0) return std::to_string(ms / per) + unit;
  return std::to_string(ms) + "ms";
}

}  // namespace cordon::util
