// The one rule for a well-formed UTF-8 sequence (RFC 3629): no overlong
// forms, no surrogates, nothing above U+10FFFF. Used by charset detection,
// the detection engine's repair and the JSON writer alike, so they never
// disagree on what is valid.
#pragma once

#include <cstddef>
#include <string_view>

namespace cordon::util {

// Length of the well-formed UTF-8 sequence starting at text[pos] (1 for an
// ASCII byte), or 0 when none starts there. pos < text.size().
constexpr std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (pos + len > text.size()) return 0;
  const auto b1 = static_cast<unsigned char>(text[pos + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

}  // namespace cordon::util
