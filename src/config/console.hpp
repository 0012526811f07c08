// The `console:` section: listener, users, TLS, sessions, metrics exposure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/common.hpp"

namespace cordon::config {

// A console user; password_hash is "pbkdf2-sha256$ITERATIONS$SALT_HEX$KEY_HEX".
struct ConsoleUser {
  std::string name;
  std::string password_hash;
  SourceMark mark;
};

struct ConsoleConfig {
  HostPort listen{"127.0.0.1", 8025};
  // Who may sign in; empty: the console keeps (and on first run generates)
  // <data_dir>/console-users.
  std::vector<ConsoleUser> users;
  std::string tls_cert;  // PEM files; both set: HTTPS only
  std::string tls_key;
  SourceMark tls_mark{1, 1};  // of tls_cert, for check-config
  Duration session_ttl = std::chrono::hours(8);
  // /metrics without a session; unset: only when listening on loopback.
  std::optional<bool> metrics_public;
};

}  // namespace cordon::config
