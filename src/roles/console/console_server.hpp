// The console's HTTP(S) server: the embedded web UI, the JSON REST API under
// /api/v1, /metrics, login sessions and CSRF checks. cpp-httplib runs its own
// thread pool; start() binds synchronously (so "address in use" stops
// `cordon run`) and serves on a thread of its own until stop().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "incidents/store.hpp"
#include "config/config.hpp"
#include "roles/console/console_auth.hpp"
#include "roles/runtime.hpp"
#include "util/result.hpp"

namespace cordon::roles::console {

struct ServerOptions {
  config::HostPort listen{"127.0.0.1", 8025};
  std::string tls_cert;  // both set: HTTPS only
  std::string tls_key;
  std::chrono::seconds session_ttl = std::chrono::hours(8);
  bool metrics_public = true;  // /metrics without a session
  std::vector<User> users;
};

class Server {
 public:
  Server(ServerOptions options, Shared& shared, std::unique_ptr<incidents::IncidentStore> store);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status<std::string> start();
  // Stops accepting, finishes requests in flight, joins the server thread.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::roles::console
