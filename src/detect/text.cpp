// UTF-8 validation/repair, word-character classification and hashing for
// the detection engine.
#include "detect/detail/text.hpp"

#include <algorithm>
#include <iterator>

#include "util/ascii.hpp"
#include "util/utf8.hpp"

namespace cordon::detect::text {
namespace {

using util::utf8_sequence_length;

bool is_ascii_word_byte(char c) {
  return is_ascii_alnum(c) || c == '_';
}

bool is_format_character(char32_t cp) {
  return cp == 0x00AD || cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F);
}

// Zero of each block of ten decimal digits (Unicode category Nd) outside
// ASCII and fullwidth, plus the mathematical digit runs and the
// superscript/subscript runs that NFKC folds to ASCII digits. Sorted.
constexpr char32_t kDigitZeros[] = {
    0x0660,  0x06F0,  0x07C0,  0x0966,  0x09E6,  0x0A66,  0x0AE6,  0x0B66,  0x0BE6,  0x0C66,
    0x0CE6,  0x0D66,  0x0DE6,  0x0E50,  0x0ED0,  0x0F20,  0x1040,  0x1090,  0x17E0,  0x1810,
    0x1946,  0x19D0,  0x1A80,  0x1A90,  0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0x2080,  0xA620,
    0xA8D0,  0xA900,  0xA9D0,  0xA9F0,  0xAA50,  0xABF0,  0x104A0, 0x11066, 0x110F0, 0x11136,
    0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x16A60, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E950, 0x1FBF0};
static_assert(std::is_sorted(std::begin(kDigitZeros), std::end(kDigitZeros)));

// The ASCII character `cp` folds to, '\0' when it is kept as it is and
// '\x7f' when it is dropped.
char fold_code_point(char32_t cp) {
  // Most non-ASCII mail text is CJK or Hangul, where nothing folds.
  if ((cp > 0x3000 && cp < 0xA620) || (cp > 0xABF9 && cp < 0xFE52)) return '\0';
  if (is_format_character(cp)) return '\x7f';
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<char>(cp - 0xFEE0);
  if (cp == 0x3000 || cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
      cp == 0x205F)
    return ' ';
  if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 || cp == 0xFE63) return '-';
  if (cp == 0x2024 || cp == 0xFE52) return '.';
  if (cp == 0x00B9) return '1';
  if (cp == 0x00B2) return '2';
  if (cp == 0x00B3) return '3';
  if (cp == 0x2070) return '0';
  if (cp >= 0x2074 && cp <= 0x2079) return static_cast<char>('4' + (cp - 0x2074));
  // Sorted: the block that could hold cp is the last one starting at or before it.
  const auto* next = std::upper_bound(std::begin(kDigitZeros), std::end(kDigitZeros), cp);
  if (next != std::begin(kDigitZeros) && cp <= *(next - 1) + 9)
    return static_cast<char>('0' + (cp - *(next - 1)));
  return '\0';
}

}  // namespace

void FoldMap::start_segment(std::size_t folded, std::size_t original) {
  if (!segments_.empty() && segments_.back().first == folded) {
    segments_.back().second = original;
    return;
  }
  segments_.emplace_back(folded, original);
}

std::size_t FoldMap::original(std::size_t folded) const {
  auto next = std::upper_bound(segments_.begin(), segments_.end(), folded,
                               [](std::size_t value, const std::pair<std::size_t, std::size_t>& s) {
                                 return value < s.first;
                               });
  if (next == segments_.begin()) return folded;
  --next;
  return next->second + (folded - next->first);
}

std::size_t FoldMap::original_end(std::string_view text, std::size_t end) const {
  if (end == 0) return original(0);
  const std::size_t last = original(end - 1);
  if (last >= text.size()) return text.size();
  return last + std::max<std::size_t>(utf8_sequence_length(text, last), 1);
}

bool fold_for_matching(std::string_view text, std::string& out, FoldMap& map) {
  std::size_t pos = 0;
  // Mail text is mostly ASCII: find the first code point that folds.
  while (pos < text.size()) {
    pos += util::ascii_prefix_length(text.substr(pos));
    if (pos >= text.size()) break;
    if (fold_code_point(code_point_at(text, pos)) != '\0') break;
    pos += std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
  }
  if (pos >= text.size()) return false;
  out.assign(text.substr(0, pos));
  map.clear();
  map.start_segment(0, 0);
  std::size_t copied_from = pos;  // start of the pending run copied as is
  auto flush = [&](std::size_t until) {
    out.append(text.substr(copied_from, until - copied_from));
  };
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const std::size_t len = std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
    const char folded = fold_code_point(code_point_at(text, pos));
    if (folded == '\0') {
      pos += len;
      continue;
    }
    flush(pos);
    if (folded != '\x7f') {
      map.start_segment(out.size(), pos);
      out.push_back(folded);
    }
    pos += len;
    copied_from = pos;
    map.start_segment(out.size(), pos);
  }
  flush(text.size());
  return true;
}

bool is_valid_utf8(std::string_view text) {
  return check_utf8(text).valid;
}

Utf8Check check_utf8(std::string_view text) {
  Utf8Check out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // Mail text is mostly ASCII: skip it many bytes at a time.
    pos += util::ascii_prefix_length(text.substr(pos));
    if (pos >= text.size()) break;
    out.ascii = out.ascii && static_cast<unsigned char>(text[pos]) < 0x80;
    const std::size_t len = utf8_sequence_length(text, pos);
    if (len == 0) {
      out.valid = false;
      out.ascii = false;  // a byte above 0x7F made it invalid
      return out;
    }
    pos += len;
  }
  return out;
}

void repair_utf8(std::string_view text, std::string& out) {
  out.assign(text);
  std::size_t pos = 0;
  while (pos < out.size()) {
    const std::size_t len = utf8_sequence_length(out, pos);
    if (len == 0) {
      out[pos] = '?';
      ++pos;
    } else {
      pos += len;
    }
  }
}

char32_t code_point_at(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return 0;
  const auto b0 = static_cast<unsigned char>(text[pos]);
  const std::size_t len = utf8_sequence_length(text, pos);
  if (len <= 1) return b0;
  char32_t cp = b0 & (0xFF >> (len + 1));
  for (std::size_t i = 1; i < len; ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  return cp;
}

char32_t code_point_before(std::string_view text, std::size_t pos) {
  if (pos == 0 || pos > text.size()) return 0;
  std::size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
    --start;
  return code_point_at(text, start);
}

bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) return is_ascii_word_byte(static_cast<char>(cp));
  struct Range {
    char32_t first, last;
  };
  // Blocks (or parts) that hold no letters or digits.
  static constexpr Range kNonWord[] = {
      {0x0080, 0x00A9},
      {0x00AB, 0x00B4},
      {0x00B6, 0x00B9},
      {0x00BB, 0x00BF},
      {0x00D7, 0x00D7},
      {0x00F7, 0x00F7},
      {0x037E, 0x037E},
      {0x0387, 0x0387},
      {0x055A, 0x055F},
      {0x0589, 0x058A},
      {0x05BE, 0x05BE},
      {0x05C0, 0x05C0},
      {0x05C3, 0x05C3},
      {0x05F3, 0x05F4},
      {0x0600, 0x060F},
      {0x061B, 0x061F},
      {0x066A, 0x066D},
      {0x06D4, 0x06D4},
      {0x0964, 0x0965},
      {0x0E4F, 0x0E4F},
      {0x0E5A, 0x0E5B},
      {0x1680, 0x1680},
      {0x2000, 0x2BFF},
      {0x2E00, 0x2E7F},
      {0x3000, 0x3004},
      {0x3008, 0x3020},
      {0x3030, 0x3030},
      {0xD800, 0xF8FF},
      {0xFE10, 0xFE1F},
      {0xFE30, 0xFE4F},
      {0xFE50, 0xFE6F},
      {0xFEFF, 0xFEFF},
      {0xFF00, 0xFF0F},
      {0xFF1A, 0xFF20},
      {0xFF3B, 0xFF40},
      {0xFF5B, 0xFF65},
      {0xFFF0, 0xFFFF},
      {0x1F000, 0x1FAFF},
      {0xE0000, 0x10FFFF},
      // Scripts written without spaces between words (Thai, Lao, Myanmar,
      // Khmer, kana, Han): a character boundary is a word boundary there.
      {0x0E00, 0x0EFF},
      {0x1000, 0x109F},
      {0x1780, 0x17FF},
      {0x3040, 0x30FF},
      {0x31F0, 0x31FF},
      {0x3400, 0x4DBF},
      {0x4E00, 0x9FFF},
      {0xF900, 0xFAFF},
      {0xFF66, 0xFF9F},
      {0x20000, 0x3FFFF},
  };
  for (const auto& r : kNonWord)
    if (cp >= r.first && cp <= r.last) return false;
  return true;
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace cordon::detect::text
