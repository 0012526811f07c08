// The spool's file-system primitives: util/fs with SpoolError codes.
#include "queue/detail/fs_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "util/random.hpp"

namespace cordon::queue::fs_ops {
namespace {

SpoolFailure to_spool(const util::FsError& e) {
  SpoolError code = SpoolError::io_error;
  if (e.no_space()) code = SpoolError::no_space;
  if (e.err == ENOENT) code = SpoolError::not_found;
  return {code, e.message};
}

template <class T>
SpoolResult<T> mapped(util::FsResult<T> r) {
  if (!r) return fail(to_spool(r.error()));
  return std::move(r).value();
}

}  // namespace

SpoolFailure os_failure(int err, std::string_view what, const std::filesystem::path& path) {
  return to_spool(util::fs_error(err, what, path));
}

SpoolResult<Ok> write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  return mapped(util::write_all(fd, data, path));
}

SpoolResult<Ok> fsync_fd(int fd, const std::filesystem::path& path) {
  return mapped(util::fsync_fd(fd, path));
}

SpoolResult<Ok> fsync_dir(const std::filesystem::path& dir) {
  return mapped(util::fsync_dir(dir));
}

SpoolResult<Ok> replace_file(const std::filesystem::path& dir, std::string_view name,
                             std::string_view data) {
  return mapped(util::atomic_replace(dir, name, data));
}

SpoolResult<Ok> rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
  return mapped(util::rename_durably(from, to));
}

SpoolResult<std::string> read_file(const std::filesystem::path& path) {
  return mapped(util::read_file(path));
}

SpoolResult<std::string> read_file_at(int dir_fd, const std::filesystem::path& dir,
                                      std::string_view name) {
  return mapped(util::read_file_at(dir_fd, dir, name));
}

SpoolResult<std::uint64_t> free_bytes(const std::filesystem::path& path) {
  return mapped(util::free_bytes(path));
}

SpoolResult<TimePoint> modification_time(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(os_failure(errno, "stat", path));
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(since_epoch));
}

SpoolResult<Ok> set_modification_time(const std::filesystem::path& path, TimePoint when) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  if (ns < 0) ns = 0;
  struct timespec times[2] = {
      {0, UTIME_OMIT},
      {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0)
    return fail(os_failure(errno, "set the mtime of", path));
  return Ok{};
}

std::string random_token() {
  return util::random_hex(6);
}

}  // namespace cordon::queue::fs_ops
