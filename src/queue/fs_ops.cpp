// Durable file-system operations for the spool. The fsync discipline
// follows Postfix mail_stream.c / OpenSMTPD queue_fs.c: data is fsynced
// before the rename that publishes it, and the directory is fsynced after,
// so the new name survives a power failure.
#include "queue/fs_ops.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cordon::queue::fs_ops {

SpoolFailure os_failure(int err, std::string_view what, const std::filesystem::path& path) {
  SpoolError code = SpoolError::io_error;
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) code = SpoolError::no_space;
  if (err == ENOENT) code = SpoolError::not_found;
  return {code, std::string(what) + " " + path.string() + ": " + std::strerror(err)};
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

SpoolResult<Ok> write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(os_failure(errno, "write", path));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

SpoolResult<Ok> fsync_fd(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) return fail(os_failure(errno, "fsync", path));
  return Ok{};
}

SpoolResult<Ok> fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return fail(os_failure(errno, "open directory", dir));
  return fsync_fd(fd.get(), dir);
}

SpoolResult<Ok> replace_file(const std::filesystem::path& dir, std::string_view name,
                             std::string_view data) {
  auto final_path = dir / std::string(name);
  auto temp_path = dir / (std::string(name) + std::string(kTempMarker) + random_token());
  UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail(os_failure(errno, "create", temp_path));
  auto written = write_all(fd.get(), data, temp_path);
  if (written) written = fsync_fd(fd.get(), temp_path);
  if (written) {
    if (int err = fd.reset(); err != 0) written = fail(os_failure(err, "close", temp_path));
  }
  if (written && ::rename(temp_path.c_str(), final_path.c_str()) != 0)
    written = fail(os_failure(errno, "rename", temp_path));
  if (!written) {
    ::unlink(temp_path.c_str());
    return written;
  }
  return fsync_dir(dir);
}

SpoolResult<Ok> rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return fail(os_failure(errno, "rename", from));
  return fsync_dir(to.parent_path());
}

SpoolResult<std::string> read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(os_failure(errno, "open", path));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(os_failure(errno, "read", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

SpoolResult<std::uint64_t> free_bytes(const std::filesystem::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return fail(os_failure(errno, "statvfs", path));
  return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
}

std::string random_token() {
  static constexpr char hex[] = "0123456789abcdef";
  unsigned char bytes[6] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Falls back on the pid and a stack address: unique enough for a temp
    // name, which is also created with O_EXCL.
    auto v = static_cast<std::uint64_t>(::getpid()) ^ reinterpret_cast<std::uintptr_t>(&bytes);
    std::memcpy(bytes, &v, sizeof bytes);
  }
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

}  // namespace cordon::queue::fs_ops
