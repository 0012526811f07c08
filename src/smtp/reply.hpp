// SMTP replies (RFC 5321 4.2): the value a server sends and a client reads.
// A Reply keeps each line's text exactly as it travels after "CODE-"/"CODE ",
// enhanced status code included, so a reply read from the wire, or a
// preformatted multi-line block built elsewhere, is sent again verbatim.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace cordon::smtp {

struct Reply {
  int code = 0;                    // 200..599
  std::string enhanced;            // RFC 3463 code of the first line ("5.7.0"), empty if none
  std::vector<std::string> lines;  // text after "CODE-" / "CODE " of each line, never empty

  // One-line reply; `enhanced` may be empty (greetings, EHLO lines).
  static Reply make(int code, std::string_view enhanced, std::string_view text);
  // Multi-line reply: every line carries the same enhanced code (if any).
  static Reply multiline(int code, std::string_view enhanced,
                         const std::vector<std::string>& texts);

  // The wire form: "CODE-line\r\n"... "CODE line\r\n".
  std::string wire() const;
  // The texts without code and enhanced code, joined with "\n" (for logs, DSNs).
  std::string text() const;

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500 && code < 600; }
};

enum class ReplyErrorCode {
  incomplete,     // no final line (yet); more input may complete it
  bad_code,       // not three digits 2xx..5xx
  bad_separator,  // fourth character neither '-' nor ' ', or line without CRLF
  mixed_codes,    // continuation lines disagree on the code
  too_long,       // a line or the whole reply exceeds the caller's limit
};

struct ReplyError {
  ReplyErrorCode code;
  std::size_t line = 0;  // index of the offending line
};

// Parses one complete reply from `wire` (CRLF line ends; the last line must
// end with CRLF). `consumed` (optional) receives the number of octets used,
// so pipelined replies can be parsed one after another from one buffer.
// `max_line` bounds every line including CRLF (0: unlimited).
Result<Reply, ReplyError> parse_reply(std::string_view wire, std::size_t* consumed = nullptr,
                                      std::size_t max_line = 0);

}  // namespace cordon::smtp
