// Maildir delivery: tmp/ + fsync + rename to new/ + fsync of new/ (see maildir.hpp).
#include "roles/gateway/maildir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace cordon::roles {
namespace fs = std::filesystem;
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string os_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd.get() >= 0 && ::fsync(fd.get()) == 0;
}

// Maildir names must not contain '/' or ':' (the info separator).
std::string safe_host(std::string host) {
  for (auto& c : host)
    if (c == '/' || c == ':') c = '_';
  return host;
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
  std::random_device random;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000;
  std::string name = fmt::format("{}.M{}P{}Q{}R{:08x}.{}", secs, micros, ::getpid(),
                                 message.queue_id, random(), safe_host(hostname));
  fs::path tmp = maildir / "tmp" / name;
  fs::path final_path = maildir / "new" / name;

  std::string head = "Return-Path: <" + message.sender + ">\r\n";
  for (const auto& r : message.recipients) head += "Delivered-To: " + r + "\r\n";
  for (const auto& h : message.extra_headers) head += h + "\r\n";

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail(os_error("create " + tmp.string()));
  if (!write_all(fd.get(), head) || !write_all(fd.get(), message.content) ||
      ::fsync(fd.get()) != 0) {
    auto why = os_error("write " + tmp.string());
    ::unlink(tmp.c_str());
    return fail(why);
  }
  if (::close(fd.release()) != 0) {
    auto why = os_error("close " + tmp.string());
    ::unlink(tmp.c_str());
    return fail(why);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    auto why = os_error("rename into " + final_path.string());
    ::unlink(tmp.c_str());
    return fail(why);
  }
  if (!fsync_dir(maildir / "new")) return fail(os_error("fsync " + (maildir / "new").string()));
  return final_path;
}

}  // namespace cordon::roles
