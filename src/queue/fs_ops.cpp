// The spool's file-system primitives: util/fs with SpoolError codes.
#include "queue/fs_ops.hpp"

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

SpoolResult<Ok> fsync_dir(const std::filesystem::path& dir) { return mapped(util::fsync_dir(dir)); }

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

SpoolResult<std::uint64_t> free_bytes(const std::filesystem::path& path) {
  return mapped(util::free_bytes(path));
}

std::string random_token() { return util::random_hex(6); }

}  // namespace cordon::queue::fs_ops
