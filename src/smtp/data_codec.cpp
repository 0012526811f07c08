// DATA dot-unstuffing with smuggling-safe end detection, and dot-stuffing.
// The state machine is byte-at-a-time so chunk boundaries never matter.
#include "smtp/data_codec.hpp"

#include <algorithm>
#include <cstring>

namespace cordon::smtp {

void DataDecoder::emit(char c, std::string& out) {
  ++size_;
  ++line_length_;
  if (max_line_ && line_length_ > max_line_) line_too_long_ = true;
  if (size_ <= max_size_) out.push_back(c);
}

void DataDecoder::in_line(char c, std::string& out) {
  if (c == '\r') {
    state_ = State::cr;  // decided by the next octet
    return;
  }
  if (c == '\n') bare_newline_ = true;  // bare LF: not a line end, see header
  emit(c, out);
  state_ = State::in_line;
}

void DataDecoder::emit_run(std::string_view run, std::string& out) {
  const std::uint64_t before = size_;
  size_ += run.size();
  line_length_ += run.size();
  if (max_line_ && line_length_ > max_line_) line_too_long_ = true;
  if (before < max_size_)
    out.append(run.substr(0, std::min<std::uint64_t>(run.size(), max_size_ - before)));
}

std::size_t DataDecoder::feed(std::string_view input, std::string& out) {
  const char* const data = input.data();
  const std::size_t n = input.size();
  // Fast path from `i` in state in_line: whole lines ending in CRLF whose next
  // line does not start with a dot, then the run of ordinary octets up to the
  // next CR or LF, are copied at once (found with memchr). Returns where the
  // byte-at-a-time state machine takes over (n: the input is used up).
  const auto copy_lines = [&](std::size_t i) {
    while (true) {
      const void* lf = std::memchr(data + i, '\n', n - i);
      const std::size_t lf_at =
          lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data) : n;
      const void* cr = std::memchr(data + i, '\r', lf_at - i);
      const std::size_t end =
          cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - data) : lf_at;
      if (end + 1 < n && data[end] == '\r' && data[end + 1] == '\n') {
        emit_run(input.substr(i, end + 2 - i), out);  // the line with its CRLF
        line_length_ = 0;
        i = end + 2;
        if (i < n && data[i] != '.') continue;
        state_ = State::line_start;
        return i;
      }
      if (end > i) emit_run(input.substr(i, end - i), out);
      return end;
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    // A line that does not start with a dot is ordinary up to its CR or LF.
    if (state_ == State::line_start && data[i] != '.') state_ = State::in_line;
    if (state_ == State::in_line) {
      i = copy_lines(i);
      if (i == n) break;
    }
    char c = input[i];
    switch (state_) {
      case State::line_start:
        if (c == '.') {
          state_ = State::dot;
        } else {
          in_line(c, out);
        }
        break;
      case State::dot:
        if (c == '\r') {
          state_ = State::dot_cr;
        } else {
          in_line(c, out);  // the leading dot was stuffing: dropped
        }
        break;
      case State::dot_cr:
        if (c == '\n') {
          state_ = State::done;
          return i + 1;
        }
        // ".<CR>x": a bare CR after an unstuffed dot.
        bare_newline_ = true;
        emit('\r', out);
        state_ = State::in_line;
        if (c == '\r') {
          state_ = State::cr;
        } else {
          in_line(c, out);
        }
        break;
      case State::in_line:
        in_line(c, out);
        break;
      case State::cr:
        if (c == '\n') {
          emit('\r', out);
          emit('\n', out);
          line_length_ = 0;
          state_ = State::line_start;
        } else {
          bare_newline_ = true;  // bare CR
          emit('\r', out);
          if (c == '\r') {
            state_ = State::cr;
          } else {
            in_line(c, out);
          }
        }
        break;
      case State::done:
        return i;
    }
  }
  return input.size();
}

std::string encode_data(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  const char* const data = message.data();
  const std::size_t n = message.size();
  bool line_start = true;
  std::size_t i = 0;
  // Runs of ordinary octets are found with memchr and copied whole: a
  // message is mostly such runs, and this is on prevent's path for every
  // message it relays.
  while (i < n) {
    const void* lf = std::memchr(data + i, '\n', n - i);
    const std::size_t lf_at =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data) : n;
    const void* cr = std::memchr(data + i, '\r', lf_at - i);
    const std::size_t end =
        cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - data) : lf_at;
    if (end > i) {
      if (line_start && data[i] == '.') out.push_back('.');
      out.append(data + i, end - i);
      line_start = false;
    }
    if (end == n) break;
    // CRLF, bare CR and bare LF all end the line as CRLF.
    i = end + 1;
    if (data[end] == '\r' && i < n && data[i] == '\n') ++i;
    out += "\r\n";
    line_start = true;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace cordon::smtp
