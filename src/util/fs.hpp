// File-system primitives that know nothing of mail: an owning file
// descriptor, complete writes, fsync of files and directories, atomic
// replacement and durable renames. Errors carry errno so that callers can
// tell a full disk (ENOSPC, EDQUOT, EFBIG) from other failures.
//
// The durability discipline follows Postfix mail_stream.c and OpenSMTPD
// queue_fs.c: data is fsynced before the rename that publishes it, and the
// directory after, so the new name survives a power failure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace cordon::util {

struct FsError {
  int err = 0;          // errno
  std::string message;  // "write /path: No space left on device"
  bool no_space() const;
};

template <class T>
using FsResult = Result<T, FsError>;

// FsError for errno `err` of operation `what` on `path`.
FsError fs_error(int err, std::string_view what, const std::filesystem::path& path);

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
  bool valid() const { return fd_ >= 0; }
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

FsResult<Ok> write_all(int fd, std::string_view data, const std::filesystem::path& path);
FsResult<Ok> fsync_fd(int fd, const std::filesystem::path& path);
FsResult<Ok> fsync_dir(const std::filesystem::path& dir);

// Creates `path` exclusively with `mode`, writes `data`, fsyncs and closes
// it, then fsyncs its directory. Fails with EEXIST when it exists.
FsResult<Ok> create_file_durably(const std::filesystem::path& path, std::string_view data,
                                 unsigned mode = 0600);

// Writes `data` to dir/name via a uniquely named temporary file in dir,
// fsync, rename over dir/name, fsync dir: readers see the old or the new
// file, never a mix, and a crash leaves at most a stray temporary file.
FsResult<Ok> atomic_replace(const std::filesystem::path& dir, std::string_view name,
                            std::string_view data, unsigned mode = 0600);

// Prefix of the temporary files atomic_replace leaves after a crash.
inline constexpr std::string_view kTempMarker = ".tmp-";

// rename(2) + fsync of the destination's parent directory.
FsResult<Ok> rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);

FsResult<std::string> read_file(const std::filesystem::path& path);
// The file `name` of the open directory `dir_fd` (whose path, `dir`, is for
// error messages): read relative to the directory, whatever it is renamed
// to meanwhile.
FsResult<std::string> read_file_at(int dir_fd, const std::filesystem::path& dir,
                                   std::string_view name);

// An exclusive advisory lock (flock(2)) on `path`, created mode 0600 when
// absent, held while the returned descriptor lives. The kernel drops it
// when the process ends, however it ends, so a crash leaves no stale lock.
// Taken: the holder's pid (as it wrote it into the file) in `holder`, and
// err EWOULDBLOCK. Taking it writes this process's pid into the file.
struct LockFailure {
  FsError error;
  std::string holder;  // pid of the process holding the lock, when known
};
Result<UniqueFd, LockFailure> lock_exclusively(const std::filesystem::path& path);

// For files that hold secrets or mail data (incident database, deployment
// key, users file): when `path` grants any access to group or others, chmod
// it to the owner's bits only. Returns what to warn about: empty when the
// mode was private already, else "PATH was mode 0644 (open to group or
// others): changed to 0600" (or "... and could not be changed: why").
FsResult<std::string> make_private(const std::filesystem::path& path);

// Bytes available to unprivileged users on the file system holding `path`.
FsResult<std::uint64_t> free_bytes(const std::filesystem::path& path);

}  // namespace cordon::util
