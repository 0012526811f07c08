// Reply construction, wire formatting and parsing (RFC 5321 4.2, RFC 3463).
#include "smtp/reply.hpp"

#include <cctype>

namespace cordon::smtp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// An RFC 3463 code "class.subject.detail" at the start of `text`, followed by
// a space or the end; returns its length or 0.
std::size_t enhanced_code_length(std::string_view text) {
  std::size_t i = 0;
  if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return 0;
  i = 1;
  for (int part = 0; part < 2; ++part) {
    if (i >= text.size() || text[i] != '.') return 0;
    ++i;
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i]) && i - start < 3) ++i;
    if (i == start) return 0;
  }
  if (i < text.size() && text[i] != ' ') return 0;
  return i;
}

}  // namespace

Reply Reply::make(int code, std::string_view enhanced, std::string_view text) {
  return multiline(code, enhanced, {std::string(text)});
}

Reply Reply::multiline(int code, std::string_view enhanced, const std::vector<std::string>& texts) {
  Reply r;
  r.code = code;
  r.enhanced = std::string(enhanced);
  for (const auto& t : texts) {
    if (enhanced.empty()) {
      r.lines.push_back(t);
    } else {
      r.lines.push_back(std::string(enhanced) + (t.empty() ? "" : " ") + t);
    }
  }
  if (r.lines.empty()) r.lines.push_back(r.enhanced);
  return r;
}

std::string Reply::wire() const {
  std::string out;
  std::string code_text = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += code_text;
    out += (i + 1 < lines.size()) ? '-' : ' ';
    out += lines[i];
    out += "\r\n";
  }
  if (lines.empty()) out = code_text + " \r\n";
  return out;
}

std::string Reply::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (std::size_t n = enhanced_code_length(line)) {
      line.remove_prefix(n);
      if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
    }
    if (i) out += '\n';
    out += line;
  }
  return out;
}

Result<Reply, ReplyError> parse_reply(std::string_view wire, std::size_t* consumed,
                                      std::size_t max_line) {
  Reply reply;
  std::size_t pos = 0;
  for (std::size_t index = 0;; ++index) {
    std::size_t lf = wire.find('\n', pos);
    if (lf == std::string_view::npos) {
      if (max_line && wire.size() - pos > max_line)
        return fail(ReplyError{ReplyErrorCode::too_long, index});
      return fail(ReplyError{ReplyErrorCode::incomplete, index});
    }
    std::string_view line = wire.substr(pos, lf + 1 - pos);
    if (max_line && line.size() > max_line)
      return fail(ReplyError{ReplyErrorCode::too_long, index});
    if (line.size() < 2 || line[line.size() - 2] != '\r')
      return fail(ReplyError{ReplyErrorCode::bad_separator, index});
    line.remove_suffix(2);
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        line[0] < '2' || line[0] > '5' || line[1] > '5')
      return fail(ReplyError{ReplyErrorCode::bad_code, index});
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (index == 0) {
      reply.code = code;
    } else if (code != reply.code) {
      return fail(ReplyError{ReplyErrorCode::mixed_codes, index});
    }
    // RFC 5321 4.2: a bare code without text is a valid last line.
    char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != '-' && sep != ' ') return fail(ReplyError{ReplyErrorCode::bad_separator, index});
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    reply.lines.emplace_back(text);
    pos = lf + 1;
    if (sep == ' ') break;
  }
  if (std::size_t n = enhanced_code_length(reply.lines.front());
      n && reply.lines.front()[0] == static_cast<char>('0' + reply.code / 100)) {
    reply.enhanced = reply.lines.front().substr(0, n);
  }
  if (consumed) *consumed = pos;
  return reply;
}

}  // namespace cordon::smtp
