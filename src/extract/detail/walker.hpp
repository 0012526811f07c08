// The recursive walk over one attachment: detects each file's true type,
// routes it to the reader for its format, and descends into archives and
// embedded files under the message's budget.
#pragma once

#include <magic.h>

#include <memory>
#include <string>
#include <string_view>

#include "extract/detail/budget.hpp"
#include "extract/extract.hpp"

namespace cordon::extract::detail {

struct MagicCloser {
  void operator()(magic_set* m) const { magic_close(m); }
};
using MagicPtr = std::unique_ptr<magic_set, MagicCloser>;

// libmagic's answer for `bytes`, refined for Office packages and CFB
// containers (see extract.hpp: Extractor::detect_type).
std::string magic_type(magic_set* magic, std::string_view bytes);

class Walker {
 public:
  // `root` names the attachment in limit reports and problems.
  Walker(magic_set* magic, Budget& budget, std::string root)
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

  magic_set* magic_;
  Budget& budget_;
  std::string root_;
};

}  // namespace cordon::extract::detail
