// Archives and compressed streams read from memory with libarchive (zip,
// tar, gzip, bzip2, xz, 7z, rar, cpio, ...), one member at a time, under
// the message's expansion budget.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "extract/detail/budget.hpp"

namespace cordon::extract::detail {

struct Member {
  std::string path;        // inside the archive, sanitised: no leading '/', no "." or ".." steps
  std::string data;        // expanded bytes (a prefix when truncated)
  std::size_t size = 0;    // bytes expanded (declared size when not read)
  bool encrypted = false;  // the member is password-protected: data is empty
  bool truncated = false;  // a limit stopped expansion: data is a prefix
};

struct ArchiveOutcome {
  std::size_t members = 0;  // regular files seen
  bool encrypted = false;   // encrypted headers or at least one encrypted member
  std::string error;        // why reading stopped early (damaged input), empty when it did not
};

// What to do with a member after its header is read.
enum class Want { skip, read, stop };

// Reads `bytes` as an archive (or a single compressed stream: its one
// member is named `stream_name`). For each regular file `want(path)`
// decides whether it is expanded; `visit` receives expanded members and
// returns false to stop. Members are charged to `budget` (and, when
// `count_files`, to its file count: the parts of an Office document are
// not files of their own); per-file size and compression-ratio limits are
// enforced here. `where` names the archive in limit reports.
ArchiveOutcome read_archive(std::string_view bytes, const std::string& where,
                            const std::string& stream_name, Budget& budget,
                            const std::function<Want(const std::string& path)>& want,
                            const std::function<bool(Member&&)>& visit, bool count_files = true);

}  // namespace cordon::extract::detail
