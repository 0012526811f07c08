// Raw header edits (see header_edit.hpp). The header block is split by the
// MIME splitter itself (structure.cpp), so what is a top-level header here
// is exactly what mime::parse inspects as one.
#include "mime/header_edit.hpp"

#include <algorithm>

#include "mime/detail/entity.hpp"
#include "util/ascii.hpp"

namespace cordon::mime {
namespace {

// Just past the line end that follows `pos` (the end of a line's content).
std::size_t past_line_end(std::string_view message, std::size_t pos) {
  if (pos < message.size() && message[pos] == '\r' && pos + 1 < message.size() &&
      message[pos + 1] == '\n')
    return pos + 2;
  if (pos < message.size() && message[pos] == '\n') return pos + 1;
  return pos;
}

std::string single_line(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// The line end the message itself uses, so added headers match it.
std::string_view line_ending(std::string_view message) {
  auto nl = message.find('\n');
  return (nl != std::string_view::npos && nl > 0 && message[nl - 1] == '\r') ||
                 nl == std::string_view::npos
             ? "\r\n"
             : "\n";
}

}  // namespace

RawHeaders split_raw_headers(std::string_view message) {
  std::vector<detail::RawField> fields;
  RawHeaders out;
  out.body = detail::split_top_headers(message, fields);
  out.fields.reserve(fields.size());
  for (const auto& f : fields) {
    // A field starts with its name; a line without a colon is all value.
    const char* first = f.name.empty() ? f.value.data() : f.name.data();
    const auto begin = static_cast<std::size_t>(first - message.data());
    const auto value_end =
        static_cast<std::size_t>(f.value.data() - message.data()) + f.value.size();
    out.fields.push_back(RawHeader{f.name, f.value, begin, past_line_end(message, value_end)});
  }
  return out;
}

std::size_t body_offset(std::string_view message) {
  return split_raw_headers(message).body;
}

std::optional<RawHeader> find_header(std::string_view message, std::string_view name) {
  for (const auto& field : split_raw_headers(message).fields)
    if (!field.name.empty() && util::iequals(field.name, name)) return field;
  return std::nullopt;
}

std::string edit_headers(std::string_view message, const HeaderEdit& edit) {
  const std::string_view eol = line_ending(message);
  std::string out;
  out.reserve(message.size() + 256);
  for (const auto& header : edit.prepend_headers) {
    out += single_line(header);
    out += eol;
  }
  const std::string prefix = single_line(edit.subject_prefix);
  if (prefix.empty()) {
    out += message;
    return out;
  }
  auto subject = find_header(message, "Subject");
  if (!subject) {
    std::string trimmed = prefix;
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
    out += "Subject: " + trimmed;
    out += eol;
    out += message;
    return out;
  }
  const auto value_begin = static_cast<std::size_t>(subject->value.data() - message.data());
  std::size_t value = value_begin;
  while (value < subject->end && (message[value] == ' ' || message[value] == '\t')) ++value;
  out += message.substr(0, value_begin);
  out += ' ';
  if (message.substr(value).substr(0, prefix.size()) != prefix) out += prefix;
  out += message.substr(value);
  return out;
}

}  // namespace cordon::mime
