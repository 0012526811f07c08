// ASCII-only string helpers (see ascii.hpp).
#include "util/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
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

namespace {

bool is_digit_or(unsigned char c, unsigned char also) {
  return (c >= '0' && c <= '9') || c == also;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) std::size_t find_digit_or_avx2(const char* p, std::size_t i,
                                                               std::size_t n, char also) {
  const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9),
                other = _mm256_set1_epi8(also);
  for (; i + 64 <= n; i += 64) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    const __m256i dx = _mm256_sub_epi8(x, zero), dy = _mm256_sub_epi8(y, zero);  // digits: 0..9
    const __m256i a = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(dx, nine), dx),
                                      _mm256_cmpeq_epi8(x, other));
    const __m256i b = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(dy, nine), dy),
                                      _mm256_cmpeq_epi8(y, other));
    if (_mm256_testz_si256(_mm256_or_si256(a, b), _mm256_or_si256(a, b))) continue;
    const std::uint64_t mask =
        static_cast<std::uint32_t>(_mm256_movemask_epi8(a)) |
        static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(b))) << 32;
    return i + static_cast<std::size_t>(__builtin_ctzll(mask));
  }
  return i;
}
#endif

}  // namespace

std::size_t find_digit_or(std::string_view text, std::size_t from, char also) {
  const char* p = text.data();
  const std::size_t n = text.size();
  if (from >= n) return n;
  std::size_t i = from;
#if defined(__x86_64__)
  static const bool kAvx2 = __builtin_cpu_supports("avx2");
  if (kAvx2) i = find_digit_or_avx2(p, i, n, also);
#endif
#if defined(__SSE2__)
  const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), other = _mm_set1_epi8(also);
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i d = _mm_sub_epi8(x, zero);
    const int mask = _mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d), _mm_cmpeq_epi8(x, other)));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  const auto also_byte = static_cast<unsigned char>(also);
  while (i < n && !is_digit_or(static_cast<unsigned char>(p[i]), also_byte)) ++i;
  return i;
}

}  // namespace cordon::util
