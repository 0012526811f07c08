// Masking of matched values for display (samples in reports and logs).
#include <algorithm>
#include <vector>

#include "detect/detect.hpp"
#include "detect/detail/masking.hpp"

namespace cordon::detect {
namespace masking {
namespace {

// Byte offsets at which each code point of (valid or repaired) UTF-8 starts.
std::vector<std::size_t> code_point_starts(std::string_view value) {
  std::vector<std::size_t> starts;
  starts.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i)
    if ((static_cast<unsigned char>(value[i]) & 0xC0) != 0x80) starts.push_back(i);
  return starts;
}

}  // namespace

std::string keep_ends(std::string_view value, std::size_t front, std::size_t back,
                      std::size_t max_stars) {
  const auto starts = code_point_starts(value);
  const std::size_t n = starts.size();
  if (front + back >= n) {  // nothing would be hidden: hide everything instead
    front = 0;
    back = 0;
  }
  const std::size_t front_end = front < n ? starts[front] : value.size();
  const std::size_t back_begin = back == 0 ? value.size() : starts[n - back];
  std::string out(value.substr(0, front_end));
  out.append(std::min(n - front - back, max_stars), '*');
  out.append(value.substr(back_begin));
  return out;
}

std::string truncate_utf8(std::string_view value, std::size_t max_bytes) {
  if (value.size() <= max_bytes) return std::string(value);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return std::string(value.substr(0, cut));
}

}  // namespace masking

std::string mask(std::string_view value) {
  const std::size_t n =
      static_cast<std::size_t>(std::count_if(value.begin(), value.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }));
  if (n <= 4) return masking::keep_ends(value, 0, 0);
  if (n < 8) return masking::keep_ends(value, 1, 0);
  if (n < 12) return masking::keep_ends(value, 2, 0);
  if (n < 16) return masking::keep_ends(value, 4, 0);
  return masking::keep_ends(value, 4, 4);
}

}  // namespace cordon::detect
