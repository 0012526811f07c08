// Address masks and address normalisation; see address_mask.hpp.
#include "policy/address_mask.hpp"

#include <cstring>

namespace cordon::policy {
namespace {

char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::vector<std::size_t> failure_function(std::string_view p) {
  std::vector<std::size_t> f(p.size(), 0);
  for (std::size_t i = 1, k = 0; i < p.size(); ++i) {
    while (k > 0 && p[i] != p[k]) k = f[k - 1];
    if (p[i] == p[k]) ++k;
    f[i] = k;
  }
  return f;
}

bool equal_folded(std::string_view subject, std::string_view lower_literal) {
  if (subject.size() != lower_literal.size()) return false;
  for (std::size_t i = 0; i < subject.size(); ++i)
    if (fold(subject[i]) != lower_literal[i]) return false;
  return true;
}

// RFC 5322 atext: what a local part may hold without quotes (plus dots).
bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!is_atext(s[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

AddressMask::AddressMask(std::string_view pattern) : pattern_(pattern) {
  std::string current;
  for (char c : pattern) {
    if (c == '*') {
      has_star_ = true;
      if (!current.empty()) {
        literals_.push_back({current, failure_function(current)});
        current.clear();
      }
    } else {
      current += fold(c);
    }
  }
  if (!current.empty()) literals_.push_back({current, failure_function(current)});
  leading_star_ = !pattern.empty() && pattern.front() == '*';
  trailing_star_ = !pattern.empty() && pattern.back() == '*';
}

bool AddressMask::matches(std::string_view address) const {
  if (!has_star_) return equal_folded(address, literals_.empty() ? "" : literals_[0].text);

  std::size_t first = 0, last = literals_.size();  // literals still to place
  std::size_t pos = 0, limit = address.size();     // window they must fit in
  if (!leading_star_) {
    const std::string& head = literals_[first].text;
    if (address.size() < head.size() || !equal_folded(address.substr(0, head.size()), head))
      return false;
    pos = head.size();
    ++first;
  }
  if (!trailing_star_) {
    const std::string& tail = literals_[last - 1].text;
    if (limit < pos + tail.size() || !equal_folded(address.substr(limit - tail.size()), tail))
      return false;
    limit -= tail.size();
    --last;
  }
  // Leftmost placement of each middle literal is optimal for '*'-only globs,
  // and KMP never moves backwards, so the whole scan is linear.
  for (std::size_t i = first; i < last; ++i) {
    const Literal& lit = literals_[i];
    std::size_t k = 0;
    bool found = false;
    while (pos < limit) {
      const char c = fold(address[pos++]);
      while (k > 0 && c != lit.text[k]) k = lit.failure[k - 1];
      if (c == lit.text[k]) ++k;
      if (k == lit.text.size()) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

std::string normalize_address(std::string_view address) {
  std::string_view a = trim(address);
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = trim(a.substr(1, a.size() - 2));
  if (!a.empty() && a.front() == '@') {  // source route: @relay1,@relay2:user@domain
    if (auto colon = a.find(':'); colon != std::string_view::npos) a.remove_prefix(colon + 1);
  }
  if (a.size() >= 2 && a.front() == '"') {
    // Find the closing quote, honouring backslash quoted-pairs.
    std::size_t i = 1;
    while (i < a.size() && a[i] != '"') i += a[i] == '\\' ? 2 : 1;
    if (i < a.size() && i + 1 < a.size() && a[i + 1] == '@') {
      std::string_view inner = a.substr(1, i - 1);
      if (is_dot_atom(inner)) return std::string(inner) + std::string(a.substr(i + 1));
    }
  }
  return std::string(a);
}

}  // namespace cordon::policy
