// File-system primitives of the spool: durable writes and renames, with
// errno mapped to SpoolError. Internal to src/queue.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "queue/spool.hpp"

namespace cordon::queue::fs_ops {

// ENOSPC/EDQUOT/EFBIG -> no_space, ENOENT -> not_found, else io_error.
SpoolFailure os_failure(int err, std::string_view what, const std::filesystem::path& path);

SpoolResult<Ok> write_all(int fd, std::string_view data, const std::filesystem::path& path);
SpoolResult<Ok> fsync_fd(int fd, const std::filesystem::path& path);
SpoolResult<Ok> fsync_dir(const std::filesystem::path& dir);

// Writes `data` to dir/name via a uniquely named temporary file in dir,
// fsync, rename over dir/name, fsync dir: readers see the old or the new
// file, never a mix, and a crash leaves at most a stray temporary file.
SpoolResult<Ok> replace_file(const std::filesystem::path& dir, std::string_view name,
                             std::string_view data);

// Prefix of the temporary files replace_file leaves after a crash.
inline constexpr std::string_view kTempMarker = ".tmp-";

// rename(2) + fsync of the destination's parent directory.
SpoolResult<Ok> rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);

SpoolResult<std::string> read_file(const std::filesystem::path& path);

// Bytes available to unprivileged users on the file system holding `path`.
SpoolResult<std::uint64_t> free_bytes(const std::filesystem::path& path);

// A short random token for unique temporary names.
std::string random_token();

// Closes a file descriptor when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now; returns the errno of close(2), 0 on success (a failed close
  // after write can be the first report of a full disk on some file systems).
  int reset();

 private:
  int fd_ = -1;
};

}  // namespace cordon::queue::fs_ops
