// Console authentication: salted password hashes (PBKDF2-HMAC-SHA256), the
// users file generated on first run, the sessions (kept in the incident
// store), and the failed-login throttle. No HTTP here: the server asks these questions and
// turns the answers into responses, so every rule is testable on its own.
//
// Hash format (also what `console.users[].password_hash` holds):
//   pbkdf2-sha256$<iterations>$<salt hex>$<derived key hex>
// e.g. from Python: hashlib.pbkdf2_hmac("sha256", pw, salt, 600000).hex()
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console/console.hpp"
#include "incidents/store.hpp"
#include "util/result.hpp"

namespace cordon::console {

using SteadyClock = std::chrono::steady_clock;

// Hashes `password` with a fresh 16-byte salt.
std::string hash_password(std::string_view password, unsigned iterations = 600000);

// Whether `hash` is a well-formed hash in the format above.
Status<std::string> check_hash_format(std::string_view hash);

// The iteration count of a well-formed hash; 0 for a malformed one.
unsigned hash_iterations(std::string_view hash);

// Constant-time comparison of the derived key; a malformed hash never verifies.
bool verify_password(std::string_view password, std::string_view hash);

// The users file under data_dir (one `name:hash` line per user, mode 0600),
// used when the configuration names no users. When the file does not exist,
// creates it with user "admin" and a random password, returned in
// `generated_password` so the caller can show it once.
struct UsersFile {
  std::vector<User> users;
  std::optional<std::string> generated_password;
};
Result<UsersFile, std::string> load_or_create_users_file(const std::string& path);

using WallClock = incidents::Clock;

struct Session {
  std::string user;
  std::string csrf_token;
  WallClock::time_point expires;
  std::string role;  // "admin" | "analyst", the user's role now
};

// Sessions by token, kept in the incident store so that every console node
// on one database knows them and a restart signs no one out. Only a SHA-256
// of the token is stored (and looked up), never the token itself. A store
// failure is an error: no session is assumed.
class SessionTable {
 public:
  SessionTable(incidents::IncidentStore& store, std::chrono::seconds ttl)
      : store_(store), ttl_(ttl) {}

  struct Created {
    std::string token;  // 256 random bits, hex: the cookie value
    Session session;
  };
  Result<Created, std::string> create(const std::string& user, const std::string& role,
                                      WallClock::time_point now);
  // The live session for `token`; nothing for an unknown or expired one.
  Result<std::optional<Session>, std::string> find(std::string_view token,
                                                   WallClock::time_point now);
  void remove(std::string_view token);

 private:
  incidents::IncidentStore& store_;
  std::chrono::seconds ttl_;
};

// Slows down password guessing per client address: after `free_attempts`
// consecutive failures each further attempt must wait 1 s, 2 s, 4 s, ...
// (at most `max_delay`) after the previous failure. A success clears it.
//
// The same back-off applies per user name, so that guesses spread over many
// addresses are slowed as well: after `user_free_attempts` failures for one
// name from anywhere. Every name that is not a configured user shares one
// entry, so a spray of invented names costs no memory. So that such a flood
// cannot keep a user out, an address the user logged in from before (the
// last 1000 pairs are remembered) is exempt from that user's back-off (not
// from its own). The delay is never a sleep: a throttled attempt is answered
// at once, so it costs no thread.
class LoginThrottle {
 public:
  explicit LoginThrottle(unsigned free_attempts = 5,
                         std::chrono::seconds max_delay = std::chrono::minutes(5),
                         unsigned user_free_attempts = 10)
      : free_attempts_(free_attempts),
        user_free_attempts_(user_free_attempts),
        max_delay_(max_delay) {}

  // Zero when `client` may try now, else how long it has to wait.
  std::chrono::seconds wait_time(const std::string& client, SteadyClock::time_point now) const;
  void failed(const std::string& client, SteadyClock::time_point now);
  void succeeded(const std::string& client);

  // The same per user name; `known`: `user` is a configured user (else the
  // shared entry of unknown names is used).
  std::chrono::seconds user_wait_time(const std::string& user, bool known,
                                      const std::string& client, SteadyClock::time_point now) const;
  void user_failed(const std::string& user, bool known, SteadyClock::time_point now);
  void user_succeeded(const std::string& user, const std::string& client);

  static constexpr std::size_t kMaxClients = 10000;
  static constexpr std::size_t kMaxTrusted = 1000;

 private:
  struct Failures {
    unsigned count = 0;
    SteadyClock::time_point last;
  };
  using Table = std::map<std::string, Failures>;
  std::chrono::seconds wait(const Table& table, const std::string& key, unsigned free,
                            SteadyClock::time_point now) const;
  static void count(Table& table, const std::string& key, SteadyClock::time_point now);

  unsigned free_attempts_;
  unsigned user_free_attempts_;
  std::chrono::seconds max_delay_;
  mutable std::mutex mutex_;
  Table clients_;
  Table users_;  // configured names, plus "" for every unknown one
  std::map<std::pair<std::string, std::string>, std::uint64_t> trusted_;  // -> use order
  std::uint64_t trust_clock_ = 0;
};

}  // namespace cordon::console
