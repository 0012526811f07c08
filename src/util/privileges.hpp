// Giving up root: a process started as root becomes an unprivileged user
// in two steps, so that what it creates is that user's from the start and
// only the listeners (and captures) are opened with a privilege.
//
//   1. assume_user(): supplementary groups, gid, and real and effective uid
//      become the user's, while the saved uid stays 0 and the thread keeps
//      only the capabilities named (e.g. CAP_NET_BIND_SERVICE for port 25).
//      Call it before any thread starts: threads inherit the capabilities.
//   2. drop_privileges(): the saved uid becomes the user's too, which makes
//      the kernel clear every capability of every thread (glibc changes the
//      ids of all threads), and then checks that it did: every thread's ids
//      and capability sets, and that uid 0 cannot be taken back.
//
// Linux only. Errors are sentences naming the call that failed.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>

#include "util/result.hpp"

namespace cordon::util {

struct UserIds {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
};

// The user from the password database.
Result<UserIds, std::string> lookup_user(const std::string& name);

// Step 1; `keep` are capability numbers (CAP_NET_BIND_SERVICE, ...), kept
// only if the process has them.
Status<std::string> assume_user(const UserIds& user, std::span<const int> keep);

// Step 2, after assume_user() took a root process to the user.
Status<std::string> drop_privileges(const UserIds& user);

// Under run_as: data_dir and each entry in it must be readable and writable
// by the user, or a role would fail later and less clearly.
Status<std::string> check_data_dir_for(const std::string& data_dir, const UserIds& user);
// After the roles started: the saved root uid and the kept capabilities go
// (every thread's), checked. An empty run_as, or a process already the
// user's, has nothing to drop.
Status<std::string> finish_run_as(const std::string& run_as);

}  // namespace cordon::util
