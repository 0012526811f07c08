// File-system primitives (see fs.hpp).
#include "util/fs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/random.hpp"

namespace cordon::util {

bool FsError::no_space() const {
  return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

FsError fs_error(int err, std::string_view what, const std::filesystem::path& path) {
  return {err, std::string(what) + " " + path.string() + ": " + std::strerror(err)};
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int UniqueFd::reset() {
  if (fd_ < 0) return 0;
  int rc = ::close(fd_);
  fd_ = -1;
  return rc == 0 ? 0 : errno;
}

FsResult<Ok> write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(fs_error(errno, "write", path));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

FsResult<Ok> fsync_fd(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) return fail(fs_error(errno, "fsync", path));
  return Ok{};
}

FsResult<Ok> fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return fail(fs_error(errno, "open directory", dir));
  return fsync_fd(fd.get(), dir);
}

namespace {

// Writes, fsyncs and closes `fd`; unlinks `path` on failure.
FsResult<Ok> finish_file(UniqueFd fd, const std::filesystem::path& path, std::string_view data) {
  auto written = write_all(fd.get(), data, path);
  if (written) written = fsync_fd(fd.get(), path);
  if (written) {
    if (int err = fd.reset(); err != 0) written = fail(fs_error(err, "close", path));
  }
  if (!written) ::unlink(path.c_str());
  return written;
}

}  // namespace

FsResult<Ok> create_file_durably(const std::filesystem::path& path, std::string_view data,
                                 unsigned mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return fail(fs_error(errno, "create", path));
  if (auto done = finish_file(std::move(fd), path, data); !done) return done;
  auto dir = path.parent_path();
  return fsync_dir(dir.empty() ? std::filesystem::path(".") : dir);
}

FsResult<Ok> atomic_replace(const std::filesystem::path& dir, std::string_view name,
                            std::string_view data, unsigned mode) {
  auto final_path = dir / std::string(name);
  auto temp_path = dir / (std::string(name) + std::string(kTempMarker) + random_hex(6));
  UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return fail(fs_error(errno, "create", temp_path));
  if (auto done = finish_file(std::move(fd), temp_path, data); !done) return done;
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    auto error = fs_error(errno, "rename", temp_path);
    ::unlink(temp_path.c_str());
    return fail(std::move(error));
  }
  return fsync_dir(dir);
}

FsResult<Ok> rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return fail(fs_error(errno, "rename", from));
  return fsync_dir(to.parent_path());
}

Result<UniqueFd, LockFailure> lock_exclusively(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return fail(LockFailure{fs_error(errno, "open", path), {}});
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    if (auto text = read_file(path)) {
      holder = *text;
      holder.erase(
          std::find_if(holder.begin(), holder.end(), [](char c) { return c < '0' || c > '9'; }),
          holder.end());
    }
    return fail(LockFailure{fs_error(err, "lock", path), std::move(holder)});
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return fail(LockFailure{fs_error(errno, "write", path), {}});
  return fd;
}

FsResult<std::string> make_private(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(fs_error(errno, "stat", path));
  const unsigned mode = st.st_mode & 07777;
  if ((mode & 077) == 0) return std::string();
  const auto octal = [](unsigned m) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", m);
    return std::string(text);
  };
  const unsigned wanted = mode & 0700;
  std::string notice = path.string() + " was mode " + octal(mode) + " (open to group or others)";
  if (::chmod(path.c_str(), wanted) != 0)
    return notice + " and could not be changed: " + std::strerror(errno);
  return notice + ": changed to " + octal(wanted);
}

namespace {

FsResult<std::string> read_open_file(const UniqueFd& fd, const std::filesystem::path& path) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(fs_error(errno, "read", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

FsResult<std::string> read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail(fs_error(errno, "open", path));
  return read_open_file(fd, path);
}

FsResult<std::string> read_file_at(int dir_fd, const std::filesystem::path& dir,
                                   std::string_view name) {
  const auto path = dir / std::string(name);
  UniqueFd fd(::openat(dir_fd, std::string(name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail(fs_error(errno, "open", path));
  return read_open_file(fd, path);
}

FsResult<std::uint64_t> free_bytes(const std::filesystem::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return fail(fs_error(errno, "statvfs", path));
  return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
}

}  // namespace cordon::util
