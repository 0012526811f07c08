// The console: the web application for reviewing incidents. It serves the
// embedded web UI, the JSON REST API under /api/v1 and /metrics over
// HTTP(S), with login sessions and CSRF checks. cpp-httplib runs its own
// thread pool; start() binds synchronously (so "address in use" stops
// `cordon run`) and serves on a thread of its own until stop().
//
// A role fills ConsoleOptions from its configuration and hands in what the
// console reads and calls (Dependencies); nothing here parses YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "incidents/store.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"

namespace cordon::config {
struct Config;
}

namespace cordon::console {

struct User {
  std::string name;
  std::string password_hash;  // pbkdf2-sha256$ITERATIONS$SALT$KEY, see console/auth.hpp
  std::string origin;         // where it is defined ("cordon.yaml:12"), for error messages
};

struct ConsoleOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8025;  // 0: any free port
  std::string tls_cert;       // PEM files; both set: HTTPS only
  std::string tls_key;
  std::chrono::seconds session_ttl = std::chrono::hours(8);
  // /metrics without a session; unset: only when listening on loopback.
  std::optional<bool> metrics_public;
  // Who may log in. When empty, the users of `users_file`, which is created
  // on the first run with user "admin" and a random password (logged once).
  std::vector<User> users;
  std::string users_file;
};

struct Dependencies {
  std::unique_ptr<incidents::IncidentStore> store;
  // The console's own metrics go here; /metrics and the dashboard render it.
  util::Metrics& metrics;
  // The configuration in force, shown by the policies page.
  std::function<std::shared_ptr<const config::Config>()> config;
  // Starts a configuration reload where the process runs them and returns
  // its outcome (the text of a refusal); the console waits at most 60 s.
  std::function<std::future<Status<std::string>>()> reload;
  // Why a reload can never succeed here (no configuration file); empty when
  // it can. The policies page disables its Reload button with this reason.
  std::string reload_unavailable;
};

class Server {
 public:
  // Checks the users (or reads or creates the users file), binds and starts
  // serving. The error text is ready to show ("console: cannot listen ...").
  static Result<std::unique_ptr<Server>, std::string> start(ConsoleOptions options,
                                                            Dependencies deps);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops accepting, finishes requests in flight, joins the server thread.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::console
