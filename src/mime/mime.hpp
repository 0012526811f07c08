// Public interface of the MIME component: turns the raw bytes of an RFC 5322
// message into the inspectable components the detection engine scans.
// Pure: bytes and limits in, a tree of components out; no I/O, no globals.
#pragma once

#include <cstddef>
#include <span>
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

// Why part of a message could not be inspected. Kinds that leave content
// unread (is_unscannable) become findings of their own in policy
// evaluation; the others are notes: the content was still scanned, read
// the way a mail client would read it.
enum class ProblemKind {
  // unscannable: content that was not scanned, or not as a reader sees it
  mime_depth,             // nesting past Limits::max_depth, read as plain text
  mime_parts,             // parts past Limits::max_parts, read as plain text
  mime_boundary,          // multipart without a usable boundary, read as plain text
  header_limit,           // header text past Limits::max_header_bytes
  decoded_size_limit,     // content past Limits::max_decoded_bytes
  encrypted,              // multipart/encrypted, password-protected archive or document
  partial_message,        // message/partial fragments that cannot be reassembled here
  decode_error,           // an attachment (archive, PDF, document, message) could not be read
  extraction_limit,       // an attachment extraction limit (attachments.on_limit decides)
  extractor_unavailable,  // attachments not extracted at all
  // notes: the content was scanned
  malformed,          // MIME structure repaired (missing colon, closing boundary, ...)
  transfer_encoding,  // invalid base64/quoted-printable characters skipped, data incomplete
  charset,            // invalid bytes in a charset replaced by U+FFFD
};

// "mime_depth", "encrypted", ...: the identifier reports and rules show.
std::string_view to_string(ProblemKind kind);
// Words for a sender-facing reply: "mime depth", "encrypted", ...
std::string_view describe(ProblemKind kind);
bool is_unscannable(ProblemKind kind);

struct Problem {
  ProblemKind kind = ProblemKind::malformed;
  std::string where;  // component or part it concerns ("attachment:a.zip/x.docx", "part 1.2")
  std::string
      detail;  // the whole human-readable account, e.g. "mime depth limit 30 reached at ..."
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
  std::vector<Problem> problems;      // what could not be inspected and why (never fatal)
};

enum class ParseErrorCode { empty_input, limit_exceeded, internal };
struct ParseError {
  ParseErrorCode code;
  std::string detail;
};

// Parses a whole message (headers + body, CRLF or LF line ends). Malformed
// MIME is inspected as far as possible and recorded in Message::problems;
// an error is returned only when nothing at all can be inspected.
// The `detail` of each problem, for reports that list them as text.
std::vector<std::string> problem_texts(std::span<const Problem> problems);

Result<Message, ParseError> parse(std::string_view bytes, const Limits& limits = {});

}  // namespace cordon::mime
