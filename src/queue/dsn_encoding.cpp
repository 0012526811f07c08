// Line splitting, folding and quoted-printable for DSNs.
#include "queue/detail/dsn_encoding.hpp"

namespace cordon::queue::dsn_encoding {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

std::string printable_ascii(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out.push_back((u >= 0x20 && u < 0x7f) || c == '\t' ? c : '?');
  }
  return out;
}

bool has_8bit(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

std::string fold_field(std::string_view name, std::string_view value, std::size_t soft) {
  std::string out(name);
  out += ": ";
  std::size_t column = out.size();
  // Words are separated by single spaces; runs of white space collapse,
  // which RFC 5322 unfolding treats the same.
  std::size_t i = 0;
  bool first = true;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::size_t end = i;
    while (end < value.size() && value[end] != ' ' && value[end] != '\t') ++end;
    if (end == i) break;
    std::string_view word = value.substr(i, end - i);
    i = end;
    if (!first) {
      if (column + 1 + word.size() > soft) {
        out += "\r\n";
        column = 0;
      }
      out += ' ';
      ++column;
    }
    first = false;
    while (column + word.size() > kMaxLine) {
      std::size_t room = kMaxLine - column;
      out.append(word.substr(0, room));
      word.remove_prefix(room);
      out += "\r\n ";
      column = 1;
    }
    out.append(word);
    column += word.size();
  }
  out += "\r\n";
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (std::string_view line : split_lines(text)) {
    std::size_t column = 0;
    for (std::size_t k = 0; k < line.size(); ++k) {
      auto u = static_cast<unsigned char>(line[k]);
      bool last = k + 1 == line.size();
      bool literal = (u >= 33 && u <= 126 && u != '=') || ((u == ' ' || u == '\t') && !last);
      std::size_t width = literal ? 1 : 3;
      if (column + width > 75) {  // 76 with the soft break '='
        out += "=\r\n";
        column = 0;
      }
      if (literal) {
        out.push_back(static_cast<char>(u));
      } else {
        out.push_back('=');
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 15]);
      }
      column += width;
    }
    out += "\r\n";
  }
  return out;
}

std::string normalise_lines(std::string_view text, bool& cut) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::string_view line : split_lines(text)) {
    if (line.size() > kMaxLine) {
      line = line.substr(0, kMaxLine);
      cut = true;
    }
    out.append(line);
    out += "\r\n";
  }
  return out;
}

}  // namespace cordon::queue::dsn_encoding
