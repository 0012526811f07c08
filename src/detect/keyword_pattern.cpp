// Keyword/phrase to Vectorscan expression translation.
#include "detect/detail/keyword_pattern.hpp"

#include <cstdio>

#include "detect/detail/text.hpp"

namespace cordon::detect {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Vectorscan's Unicode caseless matching (HS_FLAG_UCP | HS_FLAG_CASELESS)
// folds exactly two non-ASCII code points onto ASCII letters: U+212A KELVIN
// SIGN onto k and U+017F LATIN SMALL LETTER LONG S onto s (checked against
// Vectorscan by tests/detect/keywords_test.cpp). Every other character of
// an ASCII keyword matches only its ASCII upper and lower case.
constexpr std::string_view kKelvin = "\xE2\x84\xAA";
constexpr std::string_view kLongS = "\xC5\xBF";
// A keyword with more k and s letters than this keeps the expression:
// 2^n literals would cost more than they save.
constexpr std::size_t kMaxFoldedLetters = 5;

// The keyword and its spellings with folded code points, or nothing when
// the keyword is not a plain ASCII word (or has too many foldable letters).
std::vector<std::string> ascii_literals(std::string_view keyword) {
  std::size_t foldable = 0;
  for (const char c : keyword) {
    if (static_cast<unsigned char>(c) >= 0x80 || is_space(c)) return {};
    const char lower = text::ascii_lower(c);
    foldable += lower == 'k' || lower == 's';
  }
  if (foldable > kMaxFoldedLetters) return {};
  std::vector<std::string> out;
  for (std::size_t mask = 0; mask < (std::size_t{1} << foldable); ++mask) {
    std::string literal;
    std::size_t bit = 0;
    for (const char c : keyword) {
      const char lower = text::ascii_lower(c);
      if (lower != 'k' && lower != 's') {
        literal.push_back(c);
        continue;
      }
      if (mask & (std::size_t{1} << bit++))
        literal += lower == 'k' ? kKelvin : kLongS;
      else
        literal.push_back(c);
    }
    out.push_back(std::move(literal));
  }
  return out;
}

}  // namespace

Result<KeywordExpression, std::string> keyword_expression(std::string_view keyword) {
  while (!keyword.empty() && is_space(keyword.front())) keyword.remove_prefix(1);
  while (!keyword.empty() && is_space(keyword.back())) keyword.remove_suffix(1);
  if (keyword.empty()) return fail(std::string("empty keyword"));
  if (!text::is_valid_utf8(keyword)) return fail(std::string("keyword is not valid UTF-8"));

  KeywordExpression out;
  out.check_left = text::is_word_code_point(text::code_point_at(keyword, 0));
  out.check_right = text::is_word_code_point(text::code_point_before(keyword, keyword.size()));
  out.literals = ascii_literals(keyword);
  std::string& expr = out.expression;
  expr.reserve(keyword.size() * 2);
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    const char c = keyword[i];
    const auto byte = static_cast<unsigned char>(c);
    if (is_space(c)) {
      while (i + 1 < keyword.size() && is_space(keyword[i + 1])) ++i;
      expr += "\\s+";
    } else if (byte >= 0x80 || text::is_ascii_alnum(c) || c == '_') {
      expr.push_back(c);  // UTF-8 bytes and word characters are literal as they are
    } else if (byte < 0x20 || byte == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      expr += hex;
    } else {
      expr.push_back('\\');  // escaped ASCII punctuation is always literal
      expr.push_back(c);
    }
  }
  return out;
}

}  // namespace cordon::detect
