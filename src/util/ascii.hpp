// ASCII-only string helpers used across components: case-insensitive
// comparison and lower-casing. Protocol tokens (SMTP verbs, header names,
// MIME parameters, domains) are ASCII, so locale-independent byte
// comparison is what every RFC means by "case-insensitive".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cordon::util {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
bool iends_with(std::string_view text, std::string_view suffix);
std::string to_lower(std::string_view text);

// Length of the leading run of ASCII bytes (below 0x80); text.size() when
// all of it is ASCII. Checks 32 bytes a step: mail text is mostly ASCII, and
// UTF-8 validation and charset detection run over every decoded part.
std::size_t ascii_prefix_length(std::string_view text);

// The first position at or after `from` whose byte is an ASCII digit or
// `also` (pass a digit for digits only); text.size() when there is none.
// 64 bytes a step with AVX2 where the CPU has it, 16 with SSE2: exact-data
// matching looks for numbers and e-mail addresses in all of every text.
std::size_t find_digit_or(std::string_view text, std::size_t from, char also);

// Leading and trailing spaces and tabs removed.
std::string_view trim(std::string_view text);

}  // namespace cordon::util
