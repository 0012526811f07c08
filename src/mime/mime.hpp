// Public interface of the MIME component: turns the raw bytes of an RFC 5322
// message into the inspectable components the detection engine scans.
// Pure: bytes and limits in, a tree of components out; no I/O, no globals.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace cordon::mime {

struct Limits {
  std::size_t max_depth = 30;                  // multipart + message/rfc822 nesting
  std::size_t max_parts = 2000;                // MIME parts per message
  std::size_t max_header_bytes = 1 << 20;      // all headers of one part
  std::size_t max_decoded_bytes = 256u << 20;  // decoded content per message
};

enum class ComponentKind { envelope, subject, header, body, attachment };

// One inspectable piece of a message. `name` is what reports show:
// "subject", "body", "header", "envelope", or "attachment:NAME"; parts of an
// attached message/rfc822 are named "attachment:OUTER/INNER".
struct Component {
  ComponentKind kind = ComponentKind::body;
  std::string name;
  std::string text;  // UTF-8 text to scan (decoded, charset-converted, HTML stripped)
  // Attachments only:
  std::string filename;       // decoded (RFC 2047/2231) file name, may be empty
  std::string declared_type;  // Content-Type as declared, lower case, e.g. "application/pdf"
  std::string data;           // decoded bytes (transfer encoding undone); empty for message/rfc822
  bool is_text = true;        // `text` holds real text (false: binary, text may be empty)
  std::size_t size = 0;       // attachments: decoded size in bytes (as written for message/rfc822)
};

struct Header {
  std::string name;   // as written
  std::string value;  // unfolded, RFC 2047 decoded to UTF-8
};

struct Message {
  std::vector<Header> headers;        // top-level headers in order
  std::string subject;                // decoded
  std::string message_id;             // without angle brackets
  std::string from;                   // header From address(es), as written, decoded
  std::vector<Component> components;  // subject, headers, bodies, attachments in order
  std::vector<std::string> problems;  // what could not be inspected and why (never fatal)
};

enum class ParseErrorCode { empty_input, limit_exceeded, internal };
struct ParseError {
  ParseErrorCode code;
  std::string detail;
};

// Parses a whole message (headers + body, CRLF or LF line ends). Malformed
// MIME is inspected as far as possible and recorded in Message::problems;
// an error is returned only when nothing at all can be inspected.
Result<Message, ParseError> parse(std::string_view bytes, const Limits& limits = {});

}  // namespace cordon::mime
