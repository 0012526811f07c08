// Dropping root in two steps; see privileges.hpp.
#include "util/privileges.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace cordon::util {
namespace {

std::string failed(const std::string& call) {
  return call + ": " + std::strerror(errno);
}

// The raw capability calls: glibc has no wrapper, and libcap would be a
// dependency for two system calls.
struct CapSets {
  std::uint64_t effective = 0, permitted = 0, inheritable = 0;
};

bool get_caps(CapSets& out) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  out.effective = data[0].effective | (std::uint64_t{data[1].effective} << 32);
  out.permitted = data[0].permitted | (std::uint64_t{data[1].permitted} << 32);
  out.inheritable = data[0].inheritable | (std::uint64_t{data[1].inheritable} << 32);
  return true;
}

bool set_caps(const CapSets& in) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<std::uint32_t>(in.effective);
  data[1].effective = static_cast<std::uint32_t>(in.effective >> 32);
  data[0].permitted = static_cast<std::uint32_t>(in.permitted);
  data[1].permitted = static_cast<std::uint32_t>(in.permitted >> 32);
  data[0].inheritable = static_cast<std::uint32_t>(in.inheritable);
  data[1].inheritable = static_cast<std::uint32_t>(in.inheritable >> 32);
  return ::syscall(SYS_capset, &header, data) == 0;
}

// Every thread's "Uid:", "Gid:", "CapPrm:", "CapEff:" and "CapAmb:" lines
// must say the user and no capability: the kernel's own account, so a
// thread glibc missed would show here.
Status<std::string> check_every_thread(const UserIds& user) {
  const std::string uid = std::to_string(user.uid), gid = std::to_string(user.gid);
  std::error_code ec;
  std::size_t threads = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream status(task.path() / "status");
    if (!status) continue;  // the thread has just ended
    ++threads;
    std::string line;
    while (std::getline(status, line)) {
      std::istringstream fields(line);
      std::string key;
      fields >> key;
      if (key == "Uid:" || key == "Gid:") {
        const std::string& want = key == "Uid:" ? uid : gid;
        std::string value;
        while (fields >> value)
          if (value != want)
            return fail("thread " + task.path().filename().string() + " still has " + key + " " +
                        value + " after the drop to " + user.name);
      } else if (key == "CapPrm:" || key == "CapEff:" || key == "CapAmb:") {
        std::string value;
        fields >> value;
        if (value.find_first_not_of('0') != std::string::npos)
          return fail("thread " + task.path().filename().string() + " still has capabilities (" +
                      key + " " + value + ") after the drop to " + user.name);
      }
    }
  }
  if (ec || threads == 0) return fail(std::string("cannot read /proc/self/task to check the drop"));
  return Ok{};
}

}  // namespace

Result<UserIds, std::string> lookup_user(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) return fail("cannot look up user '" + name + "': " + std::strerror(rc));
  if (!found) return fail("no user '" + name + "' in the password database");
  return UserIds{name, entry.pw_uid, entry.pw_gid};
}

Status<std::string> assume_user(const UserIds& user, std::span<const int> keep) {
  if (::geteuid() != 0) {
    if (::getuid() == user.uid && ::geteuid() == user.uid) return Ok{};
    return fail("running as uid " + std::to_string(::geteuid()) + ", not root: cannot become " +
                user.name + " (uid " + std::to_string(user.uid) + ")");
  }
  CapSets held;
  if (!get_caps(held)) return fail(failed("capget"));
  std::uint64_t kept = 0;
  for (int cap : keep)
    if (cap >= 0 && cap < 64 && (held.permitted >> cap & 1)) kept |= std::uint64_t{1} << cap;
  // Groups first: once the uid is not 0, they cannot be changed.
  if (::initgroups(user.name.c_str(), user.gid) != 0) return fail(failed("initgroups"));
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return fail(failed("setresgid"));
  // The saved uid stays 0 until drop_privileges(), so the permitted set
  // survives; the effective set is cleared by the change of euid.
  if (::setresuid(user.uid, user.uid, 0) != 0) return fail(failed("setresuid"));
  if (!set_caps({kept, kept, 0})) return fail(failed("capset"));
  // Nothing inherited across exec.
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  return Ok{};
}

Status<std::string> drop_privileges(const UserIds& user) {
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return fail(failed("setresgid"));
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return fail(failed("setresuid"));
  uid_t r = 0, e = 0, s = 0;
  if (::getresuid(&r, &e, &s) != 0 || r != user.uid || e != user.uid || s != user.uid)
    return fail("the uids are not " + std::to_string(user.uid) + " after setresuid");
  if (user.uid != 0 && ::setuid(0) == 0) return fail(std::string("uid 0 could be taken back"));
  return check_every_thread(user);
}

// Under run_as, every file cordon keeps is the user's: data_dir itself and
// each entry in it (a queue, incidents.db, the deployment key, a lock)
// must be readable and writable by the user, or the role that needs it
// would fail later and less clearly. Entries are not walked recursively (a
// queue holds many); the hint covers what lies below.
Status<std::string> check_data_dir_for(const std::string& data_dir, const UserIds& user) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) return Ok{};  // created as the user by lock_data_dir
  auto refuse = [&](const fs::path& path) -> Status<std::string> {
    struct stat st {};
    std::string owner;
    if (::stat(path.c_str(), &st) == 0)
      owner = " (owner uid " + std::to_string(st.st_uid) + ", gid " + std::to_string(st.st_gid) +
              ", mode " + fmt::format("{:04o}", st.st_mode & 07777) + ")";
    return fail(path.string() + " is not readable and writable by user " + user.name + owner +
                ", which cordon runs as (run_as): chown -R " + user.name + ": " + data_dir);
  };
  if (::access(data_dir.c_str(), R_OK | W_OK | X_OK) != 0) return refuse(data_dir);
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    const int mode = entry.is_directory(ec) ? R_OK | W_OK | X_OK : R_OK | W_OK;
    if (::access(entry.path().c_str(), mode) != 0) return refuse(entry.path());
  }
  if (ec) return fail("cannot list data_dir " + data_dir + ": " + ec.message());
  return Ok{};
}

// After the roles started: the saved root uid and the kept capabilities go
// (every thread's), checked; a process that never was root has nothing to drop.
Status<std::string> finish_run_as(const std::string& run_as) {
  if (run_as.empty()) return Ok{};
  auto user = lookup_user(run_as);
  if (!user) return fail("run_as: " + user.error());
  uid_t real = 0, effective = 0, saved = 0;
  if (::getresuid(&real, &effective, &saved) != 0)
    return fail(std::string("getresuid: ") + std::strerror(errno));
  if (real == user->uid && effective == user->uid && saved == user->uid) {
    spdlog::info("running as user {} (uid {}), as run_as names", user->name, user->uid);
    return Ok{};
  }
  if (real != user->uid || effective != user->uid || saved != 0)
    return fail("run_as: the process is neither root nor " + user->name);
  if (auto dropped = drop_privileges(*user); !dropped)
    return fail("cannot drop root privileges to " + user->name + ": " + dropped.error());
  spdlog::info("running as user {} (uid {}, gid {}): listeners bound, root privileges dropped",
               user->name, user->uid, user->gid);
  return Ok{};
}

}  // namespace cordon::util
