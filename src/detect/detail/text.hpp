// Byte- and code-point-level text helpers shared by the detection engine:
// UTF-8 repair that keeps byte offsets, Unicode-aware word characters for
// keyword boundaries, and the value hash. Internal to src/detect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cordon::detect::text {

inline bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_ascii_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
inline bool is_ascii_lower(char c) {
  return c >= 'a' && c <= 'z';
}
inline bool is_ascii_alnum(char c) {
  return is_ascii_digit(c) || is_ascii_upper(c) || is_ascii_lower(c);
}
inline char ascii_lower(char c) {
  return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}
inline char ascii_upper(char c) {
  return is_ascii_lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}

// Byte at `pos`, or '\0' outside the text: lets validators peek at
// neighbours without bounds checks at every call site.
inline char at(std::string_view text, std::size_t pos) {
  return pos < text.size() ? text[pos] : '\0';
}
inline char before(std::string_view text, std::size_t pos, std::size_t back = 1) {
  return pos >= back ? text[pos - back] : '\0';
}

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or
// code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Copies `text` into `out`, replacing every byte that is not part of a
// well-formed UTF-8 sequence with '?'. The result has exactly the same
// length, so offsets found in `out` are offsets into `text`.
void repair_utf8(std::string_view text, std::string& out);

// Decodes the code point that starts at `pos` / ends just before `pos` in
// valid UTF-8; U+0000 outside the text.
char32_t code_point_at(std::string_view text, std::size_t pos);
char32_t code_point_before(std::string_view text, std::size_t pos);

// Letters, digits, marks and '_' in any script count as word characters;
// white space, punctuation and symbols do not. Non-ASCII code points are
// word characters unless they fall in a known punctuation/symbol/space
// block, which errs towards "no match" for unknown scripts. Characters of
// scripts written without spaces (Han, kana, Thai, ...) are not word
// characters, so keywords in those scripts match inside running text.
bool is_word_code_point(char32_t cp);

// Where the bytes of a folded text came from: a sorted list of segments,
// each a run of folded bytes copied one to one from the original, so it
// costs memory per folded character, not per byte of text.
class FoldMap {
 public:
  void clear() { segments_.clear(); }
  // From folded offset `folded` on, bytes come from `original` on.
  void start_segment(std::size_t folded, std::size_t original);
  // The offset in the original text of folded byte `folded`.
  std::size_t original(std::size_t folded) const;
  // The end in `text` (the original) of a folded range ending at `end`:
  // the end of the code point that produced its last byte.
  std::size_t original_end(std::string_view text, std::size_t end) const;

 private:
  std::vector<std::pair<std::size_t, std::size_t>> segments_;  // (folded, original) starts
};

// The compatibility folding that matters for matching, without ICU: what
// NFKC does to the characters people use to disguise numbers and words --
// fullwidth ASCII (U+FF01..FF5E) and the ideographic space, decimal digits
// of other scripts and mathematical/superscript/subscript digits become
// ASCII, Unicode spaces a space and dashes '-' -- and format characters
// (Cf: zero-width space/joiners, word joiner, soft hyphen, BOM, bidi
// controls, tags) are dropped, as a reader never sees them. `text` must be
// valid UTF-8. Returns false, leaving `out` and `map` untouched, when
// nothing would change (all-ASCII text returns at once). Otherwise `out` is
// the folded text and `map` says where each of its bytes came from.
bool fold_for_matching(std::string_view text, std::string& out, FoldMap& map);

// 64-bit FNV-1a: the stable value hash used to count unique values. It is
// for de-duplication, not secrecy: callers must not store it as a secret.
std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace cordon::detect::text
