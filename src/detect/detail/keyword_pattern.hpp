// Turns a policy keyword or phrase into a Vectorscan expression: literal
// text, any run of white space inside a phrase matches any run of white
// space. Word boundaries are not in the expression (Vectorscan has no \b in
// UCP mode); the scanner checks them with Unicode-aware word characters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace cordon::detect {

struct KeywordExpression {
  std::string expression;
  // Whether the keyword starts / ends with a word character, i.e. whether
  // the scanner must see a non-word character (or the text edge) there.
  bool check_left = false;
  bool check_right = false;
  // Set for a keyword of ASCII characters without white space: then it is
  // matched as caseless ASCII literals instead of `expression` (several
  // times faster to scan than a Unicode caseless expression). The first is
  // the keyword itself; the others spell it with the non-ASCII code points
  // that Unicode case folding maps onto ASCII letters (K for k, long s for
  // s), so that the literals match exactly what the expression matches.
  std::vector<std::string> literals;
};

// Fails (with a reason) on an empty keyword or one that is not valid UTF-8.
Result<KeywordExpression, std::string> keyword_expression(std::string_view keyword);

}  // namespace cordon::detect
