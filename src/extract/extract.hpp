// Public interface of the extract component: makes every attachment
// inspectable. One attachment's bytes in, a list of extracted items out:
// the attachment itself (true type from its content, text if it is a
// document) and, for archives, every member, recursively, each with a path
// named after where it sits ("report.zip/q3/customers.xlsx").
//
// Untrusted input is bounded by Limits (expanded bytes per message and per
// file, compression ratio, nesting depth, file count, wall time); exceeding
// one is reported as a LimitHit and never crashes, hangs or grows memory
// without bound. Encrypted archives and documents are reported as such,
// never passed as clean.
//
// An Extractor holds a libmagic handle, which is not thread-safe: use one
// Extractor per thread (or per session).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mime/mime.hpp"
#include "util/result.hpp"

namespace cordon::extract {

// What exceeding a limit means for the verdict: a violation of its own, or
// a note in the message's problems while the message passes on its content.
enum class LimitAction { violation, note };

struct Limits {
  std::size_t max_depth = 8;                   // archives inside archives (the attachment is 0)
  std::size_t max_message_bytes = 512u << 20;  // bytes expanded from all attachments of a message
  std::size_t max_file_bytes = 100u << 20;     // bytes expanded from one archive member
  std::size_t max_ratio = 250;                // expanded bytes per byte of the archive holding them
  std::size_t max_files = 5000;               // extracted members per message
  std::chrono::milliseconds max_time{20000};  // wall time per message
  LimitAction on_limit = LimitAction::violation;
};

enum class LimitKind { depth, message_bytes, file_bytes, ratio, files, time };
// The configuration key of the limit: "max_depth", "max_message_bytes", ...
std::string_view to_string(LimitKind kind);

struct LimitHit {
  LimitKind kind = LimitKind::depth;
  std::string where;   // path of the file being expanded when the limit was reached
  std::string detail;  // human-readable, e.g. "compression ratio above 250:1"
};

struct Item {
  std::string path;        // "" for the attachment itself, else "q3/customers.xlsx"
  std::string name;        // last path element (the attachment's own name for path "")
  std::string type;        // true type from the content, e.g. "application/zip"
  std::size_t size = 0;    // bytes (as expanded)
  std::string text;        // UTF-8 text to scan; empty for binary data
  bool encrypted = false;  // password-protected: content could not be inspected
  bool truncated = false;  // expansion stopped at a limit: only a prefix was inspected
  bool container = false;  // an archive: its members follow as items of their own
};

struct Extraction {
  std::vector<Item> items;              // the attachment first, then members depth-first
  std::vector<LimitHit> limits;         // limits reached, in order
  std::vector<mime::Problem> problems;  // what could not be inspected and why
};

// Facts about one attachment or archive member, for attachment conditions
// in policies (type, name, size, encryption).
struct FileFacts {
  std::string component;  // "attachment:fwd.eml/report.zip/q3/customers.xlsx"
  std::string name;       // file name, last path element
  std::string type;       // true type
  std::size_t size = 0;
  bool encrypted = false;
};

struct Expansion {
  std::vector<FileFacts> files;  // every attachment, then extracted members, in message order
  std::vector<LimitHit> limits;  // `where` is the component name
  LimitAction on_limit = LimitAction::violation;  // what the limits reached mean
};

// An attachment condition of a policy: a file holds it when every part
// that is set holds. Globs use '*' (any run) and '?' (one character) and
// compare case-insensitively: types: ["application/vnd.ms-excel*"],
// names: ["*.xlsx"].
struct FileCondition {
  std::vector<std::string> types;  // globs on the true type; empty: any
  std::vector<std::string> names;  // globs on the file name; empty: any
  std::size_t min_size = 0;        // bytes; 0: any
  bool encrypted_only = false;     // only password-protected files

  bool matches(const FileFacts& file) const;
  // "attachment:type=application/zip,encrypted", for reports.
  std::string describe() const;
};

bool glob_match(std::string_view glob, std::string_view text);

enum class ErrorCode { magic_unavailable };
struct Error {
  ErrorCode code;
  std::string detail;
};

class Extractor {
 public:
  // Opens libmagic and loads its default database once.
  static Result<Extractor, Error> create(const Limits& limits = {});
  ~Extractor();
  Extractor(Extractor&&) noexcept;
  Extractor& operator=(Extractor&&) noexcept;

  const Limits& limits() const { return limits_; }

  // True type of `bytes` (a MIME type, lower case), refined for Office Open
  // XML and OpenDocument files that libmagic reports as plain zip.
  std::string detect_type(std::string_view bytes);

  // Extracts one attachment called `name` under a budget of its own.
  Extraction extract(std::string_view name, std::string_view bytes);

  // Extracts every attachment of `message` under one budget: the text of a
  // document attachment fills its component; archive members are appended
  // as components named "attachment:ARCHIVE/PATH"; limits reached and
  // encrypted files are recorded in message.problems. Returns the facts
  // that attachment conditions are evaluated on.
  Expansion expand(mime::Message& message);

 private:
  struct Impl;
  explicit Extractor(std::unique_ptr<Impl> impl, const Limits& limits);
  std::unique_ptr<Impl> impl_;
  Limits limits_;
};

// Convenience for one-off callers: makes an Extractor and expands. When
// libmagic cannot be opened, nothing is extracted and the reason is
// recorded in message.problems.
Expansion expand(mime::Message& message, const Limits& limits);

}  // namespace cordon::extract
