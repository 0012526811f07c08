// The recursive walk over one attachment: detects each file's true type,
// routes it to the reader for its format, and descends into archives and
// embedded files under the message's budget.
#pragma once

#include <magic.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "extract/detail/budget.hpp"
#include "extract/extract.hpp"

namespace cordon::extract::detail {

struct MagicCloser {
  void operator()(magic_set* m) const { magic_close(m); }
};
using MagicPtr = std::unique_ptr<magic_set, MagicCloser>;

// The two libmagic handles of an Extractor: `full` runs every test;
// `quick` skips the soft-magic tests (MAGIC_NO_CHECK_SOFT), whose regular
// expressions cost a millisecond or more per plain-text file, and still
// runs the tar, JSON, CSV, CDF and ELF tests and the text-encoding check.
// `quick` may be null: then `full` answers everything.
struct MagicSets {
  magic_set* full = nullptr;
  magic_set* quick = nullptr;
};

// The type of `bytes` when its first bytes are a signature whose libmagic
// answer is fixed (PDF, PNG, GIF, JPEG, gzip, RTF); nullopt otherwise.
std::optional<std::string_view> signature_type(std::string_view bytes);

// True when `text` bears none of the marks libmagic's soft-magic text
// tests look for (markup, a header or mail block, a script line, a
// language keyword at a line start, control characters): for such text
// those tests find nothing and the answer is text/plain.
bool looks_like_prose(std::string_view text);

// libmagic's answer for `bytes`, refined for Office packages and CFB
// containers (see extract.hpp: Extractor::detect_type). Signatures and
// prose are typed without the soft-magic tests (see above).
std::string magic_type(const MagicSets& magic, std::string_view bytes);

class Walker {
 public:
  // `root` names the attachment in limit reports and problems.
  Walker(const MagicSets& magic, Budget& budget, std::string root)
      : magic_(magic), budget_(budget), root_(std::move(root)) {}

  // Appends the item for `bytes` (at `path`, "" for the attachment itself)
  // and, for containers, the items of its members.
  void visit(const std::string& path, const std::string& name, std::string_view bytes,
             std::size_t depth, Extraction& out);

 private:
  std::string where(const std::string& path) const {
    return path.empty() ? root_ : root_ + "/" + path;
  }
  void archive(std::size_t index, std::string_view bytes, std::size_t depth, Extraction& out);
  void message(std::size_t index, std::string_view bytes, std::size_t depth, Extraction& out);
  bool may_descend(std::size_t index, std::size_t depth, Extraction& out);

  MagicSets magic_;
  Budget& budget_;
  std::string root_;
};

}  // namespace cordon::extract::detail
