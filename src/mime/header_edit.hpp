// Raw header edits: the top-level header block of a message as byte ranges
// (split by the same rules mime::parse uses), and the edits a DLP server
// makes to a message it relays: headers added on top and a subject prefix.
// Pure functions on bytes; the message is RFC 5322 text with CRLF (or LF)
// line ends, as received in DATA. Everything outside the edits is kept
// byte for byte.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::mime {

// One line group of the top-level header block, as written. Views and
// offsets point into the message that was split.
struct RawHeader {
  std::string_view name;   // as written; empty for a line that is not a field (no colon)
  std::string_view value;  // after the colon, folding included, without the last line end
  std::size_t begin = 0;   // offset of the field's first byte
  std::size_t end = 0;     // offset just past its last line end
};

struct RawHeaders {
  std::vector<RawHeader> fields;  // in order
  std::size_t body = 0;           // first body byte: just after the empty line
};

// The top-level header block. The empty line ends it (a message without
// one is all headers); a leading mbox "From " line is not a field; a line
// without a colon is kept as a field without a name, as mime::parse keeps it.
RawHeaders split_raw_headers(std::string_view message);

// Offset of the first body byte (the message's size when there is none).
std::size_t body_offset(std::string_view message);

// The first top-level field called `name` (case-insensitive).
std::optional<RawHeader> find_header(std::string_view message, std::string_view name);

struct HeaderEdit {
  std::vector<std::string> prepend_headers;  // whole "Name: value" fields, without CRLF
  std::string subject_prefix;                // empty: subject unchanged
};

// The message with `prepend_headers` on top (in order) and the first Subject
// prefixed (a Subject header is added when there is none). A subject that
// already starts with the prefix is left alone, so a reply to a modified
// message does not collect "[DLP] [DLP] ". CR and LF inside the given
// headers or prefix are replaced by spaces: configuration text must never
// split a header. Added lines end the way the message's first line does.
std::string edit_headers(std::string_view message, const HeaderEdit& edit);

}  // namespace cordon::mime
