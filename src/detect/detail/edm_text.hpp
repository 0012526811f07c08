// Internal to EDM: the one definition of a word, a digit and an e-mail
// character, shared by the normalisation of cells (edm_index.cpp) and of
// candidates in text (edm_scan.cpp), so the two can never disagree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cordon::detect::edm::detail {

inline bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
inline bool is_alpha(unsigned char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
// Letters, digits and every byte of non-ASCII UTF-8 (read as letters).
inline bool is_word(unsigned char c) {
  return is_digit(c) || is_alpha(c) || c >= 0x80;
}
inline char lower(unsigned char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
}
inline bool is_email_local(unsigned char c) {
  return is_digit(c) || is_alpha(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
inline bool is_email_domain(unsigned char c) {
  return is_digit(c) || is_alpha(c) || c == '.' || c == '-';
}

// Digits values shorter than this are not indexed nor looked up: they are
// too many to say anything (and would all be common).
inline constexpr std::size_t kMinDigits = 4;
inline constexpr std::size_t kMaxDigits = 24;

inline void append_lower(std::string& out, std::string_view word) {
  for (unsigned char c : word) out.push_back(lower(c));
}

}  // namespace cordon::detect::edm::detail
