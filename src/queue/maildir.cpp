// Maildir delivery: tmp/ + fsync + rename to new/ + fsync of new/ (see maildir.hpp).
#include "queue/maildir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::queue {
namespace fs = std::filesystem;
namespace {

// Maildir names must not contain '/' or ':' (the info separator).
std::string safe_host(std::string host) {
  for (auto& c : host)
    if (c == '/' || c == ':') c = '_';
  return host;
}

// Writes, fsyncs and closes the file in tmp/; removes it on any failure.
util::FsResult<Ok> write_tmp(const fs::path& tmp, std::string_view head, std::string_view content) {
  util::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return fail(util::fs_error(errno, "create", tmp));
  auto written = util::write_all(fd.get(), head, tmp);
  if (written) written = util::write_all(fd.get(), content, tmp);
  if (written) written = util::fsync_fd(fd.get(), tmp);
  if (written) {
    if (int err = fd.reset(); err != 0) written = fail(util::fs_error(err, "close", tmp));
  }
  if (!written) ::unlink(tmp.c_str());
  return written;
}

}  // namespace

Result<fs::path, std::string> deliver_to_maildir(const fs::path& maildir,
                                                 const std::string& hostname,
                                                 const MaildirMessage& message) {
  std::error_code ec;
  for (const char* sub : {"tmp", "new", "cur"}) {
    fs::create_directories(maildir / sub, ec);
    if (ec) return fail("create " + (maildir / sub).string() + ": " + ec.message());
  }
  // time.M<micros>P<pid>Q<queue id>R<random>.host: unique without
  // coordination between processes or threads; the random part separates
  // two files of one queue entry (a retry after a crash between the rename
  // and the queue removal).
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000;
  std::string name = fmt::format("{}.M{}P{}Q{}R{}.{}", secs, micros, ::getpid(), message.queue_id,
                                 util::random_hex(4), safe_host(hostname));
  fs::path tmp = maildir / "tmp" / name;
  fs::path final_path = maildir / "new" / name;

  std::string head = "Return-Path: <" + message.sender + ">\r\n";
  for (const auto& r : message.recipients) head += "Delivered-To: " + r + "\r\n";
  for (const auto& h : message.extra_headers) head += h + "\r\n";

  if (auto written = write_tmp(tmp, head, message.content); !written)
    return fail(written.error().message);
  if (auto renamed = util::rename_durably(tmp, final_path); !renamed) {
    ::unlink(tmp.c_str());
    return fail(renamed.error().message);
  }
  return final_path;
}

}  // namespace cordon::queue
