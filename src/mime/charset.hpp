// Conversion of text in any declared (or undeclared, or wrongly declared)
// charset to UTF-8, so that detection sees one encoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cordon::mime::detail {

struct Utf8Text {
  std::string text;          // valid UTF-8
  std::string charset_used;  // what the bytes were decoded as, lower case
  std::size_t replaced = 0;  // invalid sequences replaced by U+FFFD
  bool truncated = false;    // output reached max_output
};

// Converts `bytes` to UTF-8. A byte-order mark wins over the declaration;
// UTF-16 without BOM is recognised from its NUL-byte pattern; a Latin-family
// declaration on bytes that are valid multi-byte UTF-8 is treated as a lie;
// an unknown charset falls back to UTF-8 if valid, else Windows-1252.
// Invalid sequences become U+FFFD (never dropped, so "1234<bad>5678" does not
// turn into one longer digit run). Output is capped at max_output bytes.
Utf8Text to_utf8(std::string_view bytes, std::string_view declared_charset,
                 std::size_t max_output = static_cast<std::size_t>(-1));

bool is_valid_utf8(std::string_view bytes);

// Copies `bytes`, replacing each invalid UTF-8 sequence by U+FFFD; returns
// how many were replaced.
std::size_t sanitize_utf8(std::string_view bytes, std::string& out);

// Appends code point `cp` as UTF-8 (invalid code points become U+FFFD).
void append_utf8(std::string& out, char32_t cp);

}  // namespace cordon::mime::detail
