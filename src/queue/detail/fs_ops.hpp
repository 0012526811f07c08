// The spool's file-system primitives: util/fs.hpp with errno mapped to
// SpoolError, so that a full disk becomes 452 4.3.1 and anything else
// 451 4.3.0. Internal to src/queue.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "queue/spool.hpp"
#include "util/fs.hpp"

namespace cordon::queue::fs_ops {

using util::kTempMarker;
using util::UniqueFd;

// ENOSPC/EDQUOT/EFBIG -> no_space, ENOENT -> not_found, else io_error.
SpoolFailure os_failure(int err, std::string_view what, const std::filesystem::path& path);

SpoolResult<Ok> write_all(int fd, std::string_view data, const std::filesystem::path& path);
SpoolResult<Ok> fsync_fd(int fd, const std::filesystem::path& path);
SpoolResult<Ok> fsync_dir(const std::filesystem::path& dir);
// util::atomic_replace.
SpoolResult<Ok> replace_file(const std::filesystem::path& dir, std::string_view name,
                             std::string_view data);
SpoolResult<Ok> rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);
SpoolResult<std::string> read_file(const std::filesystem::path& path);
SpoolResult<std::string> read_file_at(int dir_fd, const std::filesystem::path& dir,
                                      std::string_view name);
SpoolResult<std::uint64_t> free_bytes(const std::filesystem::path& path);

// The modification time of `path`, and setting it (the access time is
// left alone). The spool keeps a deferred message's next attempt in its
// envelope file's mtime, as Postfix does, so that a scan can tell from a
// stat whether a message is due.
SpoolResult<TimePoint> modification_time(const std::filesystem::path& path);
SpoolResult<Ok> set_modification_time(const std::filesystem::path& path, TimePoint when);

// A short random token for unique temporary names.
std::string random_token();

}  // namespace cordon::queue::fs_ops
