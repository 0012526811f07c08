// Keyword/phrase to Vectorscan expression translation.
#include "detect/detail/keyword_pattern.hpp"

#include <cstdio>

#include "detect/detail/text.hpp"

namespace cordon::detect {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
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
