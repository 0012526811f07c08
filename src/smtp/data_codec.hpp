// DATA content transparency (RFC 5321 4.5.2) and line-ending policy, both
// directions; internal to the smtp component, pure and unit tested.
//
// The rule that defeats SMTP smuggling: only <CR><LF>.<CR><LF> ends the
// content (the DATA command's own CRLF counts as the first <CR><LF>). A bare
// <LF> or bare <CR> anywhere does not start or end a line: no dot is
// unstuffed after it and no end of data is seen after it, so <LF>.<LF>,
// <LF>.<CR><LF> and <CR>.<CR> stay inside the message. The decoder flags such
// a message and the session rejects it as a whole after the real end of data
// (550 5.6.11), so a "second message" hidden behind them is never accepted and
// never read as commands; the session stays usable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cordon::smtp {

class DataDecoder {
 public:
  DataDecoder(std::uint64_t max_size, std::size_t max_line)
      : max_size_(max_size), max_line_(max_line) {}

  // Consumes input up to and including the end-of-data marker, appending
  // decoded content to `out` (nothing more once the size limit is exceeded).
  // Returns the number of input octets consumed; less than input.size() only
  // when the end was reached (the rest belongs to the next command).
  std::size_t feed(std::string_view input, std::string& out);

  bool done() const { return state_ == State::done; }
  bool bare_newline() const { return bare_newline_; }
  bool line_too_long() const { return line_too_long_; }
  bool too_big() const { return size_ > max_size_; }
  std::uint64_t size() const { return size_; }  // decoded octets, counted even past the limit

 private:
  enum class State { line_start, dot, dot_cr, in_line, cr, done };
  void emit(char c, std::string& out);
  void emit_run(std::string_view run, std::string& out);
  void in_line(char c, std::string& out);

  std::uint64_t max_size_;
  std::size_t max_line_;
  State state_ = State::line_start;
  std::uint64_t size_ = 0;
  std::size_t line_length_ = 0;
  bool bare_newline_ = false;
  bool line_too_long_ = false;
};

// Client side: normalises every line end (CRLF, bare LF, bare CR) to CRLF,
// dot-stuffs, ends the last line, and appends the ".\r\n" terminator.
std::string encode_data(std::string_view message);

}  // namespace cordon::smtp
