// ASCII-only string helpers (see ascii.hpp).
#include "util/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace cordon::util {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::size_t ascii_prefix_length(std::string_view text) {
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const char* p = text.data();
  std::size_t i = 0;
  const std::size_t n = text.size();
#ifdef __SSE2__
  // Every message and component is checked this way, most of them all
  // ASCII: 128 bytes a step, the sign bits of eight 16-byte loads OR-ed,
  // then the 32- and 8-byte steps below find the first byte above 0x7F.
  for (; i + 128 <= n; i += 128) {
    const auto* v = reinterpret_cast<const __m128i*>(p + i);
    const __m128i a = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                                   _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
    const __m128i b = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v + 4), _mm_loadu_si128(v + 5)),
                                   _mm_or_si128(_mm_loadu_si128(v + 6), _mm_loadu_si128(v + 7)));
    if (_mm_movemask_epi8(_mm_or_si128(a, b)) != 0) break;
  }
#endif
  for (; i + 32 <= n; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, p + i, sizeof w);
    if (((w[0] | w[1] | w[2] | w[3]) & kHigh) != 0) break;
  }
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    if ((w & kHigh) != 0) break;
  }
  while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
  return i;
}

}  // namespace cordon::util
