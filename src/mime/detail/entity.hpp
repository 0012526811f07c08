// The MIME structure of a message as a tree of entities whose headers and
// bodies are views into the input (or into decoded buffers the tree owns).
// Built by split_entities(); walked by parse() to produce components.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mime/mime.hpp"
#include "mime/transfer_decode.hpp"
#include "util/ascii.hpp"

namespace cordon::mime::detail {

struct RawField {
  std::string_view name;   // empty for a header line that had no colon
  std::string_view value;  // raw: may contain folding line breaks
};

struct ContentInfo {
  std::string media_type = "text";  // lower case
  std::string subtype = "plain";    // lower case
  std::string charset;              // as declared
  std::string boundary;
  std::string disposition;  // lower case: "attachment", "inline" or ""
  std::string filename;     // decoded: Content-Disposition filename, else Content-Type name
  TransferEncoding encoding = TransferEncoding::identity;
  bool encoding_unknown = false;  // Content-Transfer-Encoding not one cordon knows
  bool encoding_guessed = false;  // ... and `encoding` is what the content plainly is
  bool type_declared = false;
  // message/partial (RFC 2046 5.2.2): the fragment's id, number and total
  // (0 when not given or not a number).
  std::string partial_id;
  std::size_t partial_number = 0;
  std::size_t partial_total = 0;

  std::string type() const { return media_type + "/" + subtype; }
  bool is_multipart() const { return media_type == "multipart"; }
  bool is_partial() const { return media_type == "message" && subtype == "partial"; }
  bool is_message() const {
    return media_type == "message" && (subtype == "rfc822" || subtype == "global");
  }
};

struct Entity {
  std::string part_id;  // IMAP-style "1.2"; empty for a message's root
  std::vector<RawField> fields;
  ContentInfo content;
  std::string_view body;             // leaves: the still-encoded body
  std::size_t raw_size = 0;          // bytes of the body as written
  std::vector<Entity> children;      // multipart
  std::string_view preamble;         // multipart: text before the first delimiter
  std::string_view epilogue;         // multipart: text after the closing delimiter
  std::unique_ptr<Entity> embedded;  // message/rfc822: the attached message's root
};

struct EntityTree {
  Entity root;
  // Decoded bodies of message/rfc822 parts that were (wrongly) base64 or
  // quoted-printable encoded; the embedded entities view into them.
  std::deque<std::string> buffers;
};

// Records problems with a bound on their number, so hostile input cannot
// grow the list without limit.
class ProblemLog {
 public:
  explicit ProblemLog(std::vector<std::string>& sink) : sink_(sink) {}
  void add(std::string problem);
  void finish();

 private:
  static constexpr std::size_t kMaxProblems = 64;
  std::vector<std::string>& sink_;
  std::size_t dropped_ = 0;
};

// Splits `message` into its entity tree, enforcing max_depth, max_parts and
// max_header_bytes. Never fails: what cannot be split is kept as a text leaf
// and recorded in `problems`.
EntityTree split_entities(std::string_view message, const Limits& limits, ProblemLog& problems);

// The top-level header block of `message` split as split_entities() splits
// it, without the header byte limit: `fields` in order; returns the offset
// of the first body byte (the message's size when there is no body).
std::size_t split_top_headers(std::string_view message, std::vector<RawField>& fields);

// Folding removed, leading/trailing white space trimmed.
std::string unfold(std::string_view raw_value);

using util::iequals;

}  // namespace cordon::mime::detail
