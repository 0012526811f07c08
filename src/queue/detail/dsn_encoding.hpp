// Text transformations the DSN builder needs to keep its output valid
// RFC 5322/2045 (CRLF, <= 998 octets a line, 7bit unless declared).
// Internal to src/queue.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cordon::queue::dsn_encoding {

inline constexpr std::size_t kMaxLine = 998;  // RFC 5322 2.1.1, without CRLF

// Splits on CRLF, bare LF or bare CR; a trailing line end yields no empty
// last line.
std::vector<std::string_view> split_lines(std::string_view text);

// Replaces every octet that is not printable ASCII (or tab) with '?':
// delivery-status fields and the top-level headers are 7bit.
std::string printable_ascii(std::string_view text);

bool has_8bit(std::string_view text);

// "Name: value" folded at white space before `soft` columns where
// possible; continuation lines start with a space; a run without white
// space longer than kMaxLine is cut (the only way to stay valid).
std::string fold_field(std::string_view name, std::string_view value, std::size_t soft = 78);

// Quoted-printable (RFC 2045 6.7) of CRLF-separated text.
std::string quoted_printable(std::string_view text);

// Text with every line end turned into CRLF and lines longer than
// kMaxLine cut; sets `cut` when that happened.
std::string normalise_lines(std::string_view text, bool& cut);

}  // namespace cordon::queue::dsn_encoding
