// Address masks: case-insensitive glob patterns over e-mail addresses, where
// '*' matches any run of characters (also none) anywhere in the pattern.
// Used by the L7 filters (filter.hpp) and by a policy's `except` lists.
//
// Matching runs in O(pattern + address) time whatever the pattern: the parts
// between stars are found left to right with Knuth-Morris-Pratt, so
// adversarial masks such as `*a*a*a*a*b` cannot make a filter slow.
// Only ASCII letters fold case; other bytes (UTF-8 addresses) compare as is.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::policy {

class AddressMask {
 public:
  // Any string is a valid glob; callers that read masks from users (the
  // filter parser) check characters first. Runs of stars act as one star.
  explicit AddressMask(std::string_view pattern);

  // Compares the address as given: callers normalise it first (see
  // normalize_address) so that `<Bob@X>` and `"bob"@x` match `bob@x`.
  bool matches(std::string_view address) const;

  // The pattern as written, for messages.
  const std::string& pattern() const { return pattern_; }

 private:
  struct Literal {
    std::string text;                  // lower-cased
    std::vector<std::size_t> failure;  // KMP failure function of `text`
  };
  std::string pattern_;
  bool has_star_ = false;
  bool leading_star_ = false;
  bool trailing_star_ = false;
  std::vector<Literal> literals_;  // the text between stars, in order, none empty
};

// Canonical form of an envelope address for matching: surrounding white
// space and one pair of angle brackets removed (so `<>` becomes the empty
// null sender), an RFC 5321 source route (`@a,@b:`) dropped, and a quoted
// local part unquoted when the quotes are unnecessary (`"bob"@x` -> `bob@x`;
// `"john doe"@x` keeps its quotes). Case is kept: matching ignores it.
std::string normalize_address(std::string_view address);

}  // namespace cordon::policy
