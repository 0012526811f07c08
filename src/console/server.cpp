// The console HTTP server: the users, routing, sessions, CSRF, security
// headers, static assets and /metrics; the API handlers live in api.cpp.
//
// Security model: every /api/v1 route except /health and /login needs a
// session cookie (looked up in the incident store, so every console node on
// one database shares them), some need the admin role (HttpOnly, SameSite=Strict, Secure under
// TLS); every state-changing request also needs the session's CSRF token in the X-CSRF-Token
// header. Authentication is checked before routing, so an anonymous client cannot even tell which
// routes exist.
#include "console/console.hpp"

#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include "console/auth.hpp"
#include "console/detail/api.hpp"
#include "console/detail/assets.hpp"
#include "util/ascii.hpp"
#include "util/random.hpp"

namespace cordon::console {
namespace {

constexpr const char* kCookieName = "cordon_session";
constexpr std::size_t kMaxBody = 64 * 1024;

// Only same-origin scripts, styles and requests; no framing.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

std::string cookie_value(const httplib::Request& req, std::string_view name) {
  auto header = req.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    part = util::trim(part);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
  }
  return {};
}

bool equal_secrets(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_write(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// host:port, with an IPv6 address in brackets.
std::string listen_text(const ConsoleOptions& options) {
  std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  return host + ":" + std::to_string(options.port);
}

// Every configured user is checked and written into the store as an
// admin (the configuration stays authoritative for its names). Without
// any, the users file is imported, and created with a generated admin
// only when the store has no user yet (another node may have made one).
Status<std::string> seed_users(const ConsoleOptions& options, incidents::IncidentStore& store) {
  auto store_failed = [](const incidents::StoreError& e) {
    return "console: the incident store cannot keep the console users: " + e.message;
  };
  if (!options.users.empty()) {
    for (const auto& user : options.users)
      if (auto ok = check_hash_format(user.password_hash); !ok)
        return fail((user.origin.empty() ? "" : user.origin + ": ") + "console user '" + user.name +
                    "': " + ok.error());
    for (const auto& user : options.users)
      if (auto put = store.put_user({user.name, user.password_hash, "admin"}, true); !put)
        return fail(store_failed(put.error()));
    return Ok{};
  }
  auto existing = store.users();
  if (!existing) return fail(store_failed(existing.error()));
  if (!existing->empty() && !std::filesystem::exists(options.users_file)) return Ok{};
  auto file = load_or_create_users_file(options.users_file);
  if (!file) return fail("console: " + file.error());
  bool generated_kept = false;
  for (const auto& user : file->users) {
    auto put = store.put_user({user.name, user.password_hash, "admin"}, false);
    if (!put) return fail(store_failed(put.error()));
    generated_kept = generated_kept || *put;
  }
  if (file->generated_password) {
    if (generated_kept)
      // Shown once, on the run that creates the file; only its hash is kept.
      spdlog::warn(
          "console: created user 'admin' with password '{}' (stored hashed in {}; shown only "
          "this once)",
          *file->generated_password, options.users_file);
    else
      spdlog::warn(
          "console: user 'admin' already exists in the incident store (made by another "
          "console); the password generated into {} does not sign in",
          options.users_file);
  }
  return Ok{};
}

}  // namespace

struct Server::Impl {
  using Handler = std::function<void(const httplib::Request&, httplib::Response&,
                                     const std::smatch&, const Session*)>;
  enum class Access { open, analyst, admin };
  struct Route {
    std::string method;
    std::regex pattern;
    Access access;
    Handler handler;
  };

  ConsoleOptions options;
  bool metrics_public;
  Dependencies deps;
  Api api;
  SessionTable sessions;
  LoginThrottle throttle;
  std::unique_ptr<httplib::Server> http;
  std::vector<Route> routes;
  std::thread thread;
  // A hash to verify against when the user name is unknown, so a wrong name
  // costs as much time as a wrong password (same iteration count).
  std::string dummy_hash;
  // Each check costs a PBKDF2 run; a flood of logins must not take every
  // core from mail inspection, so only this many run at once.
  static constexpr int kMaxConcurrentChecks = 2;
  std::atomic<int> checks_in_flight{0};
  util::Gauge& sessions_gauge;
  // The store's change token as the watcher thread last read it; long-poll
  // requests wait on `changed` for it to move.
  std::mutex change_mutex;
  std::condition_variable changed;
  std::string change_token;
  bool stopping = false;
  std::thread watcher;
  std::atomic<int> waiting{0};
  static constexpr int kMaxWaiting = 16;

  Impl(ConsoleOptions o, Dependencies d)
      : options(std::move(o)),
        metrics_public(options.metrics_public.value_or(is_loopback(options.host))),
        deps(std::move(d)),
        api(deps),
        sessions(*deps.store, options.session_ttl),
        sessions_gauge(deps.metrics.gauge("cordon_console_sessions",
                                          "Console sessions this node signed in, less sign-outs")) {
    unsigned iterations = 0;
    if (auto users = deps.store->users(); users && !users->empty())
      iterations = hash_iterations(users->front().password_hash);
    dummy_hash = hash_password(util::random_hex(16), iterations ? iterations : 600000);
    add_routes();
  }

  // Follows the store's changes: on PostgreSQL woken by NOTIFY, elsewhere
  // (and as the catch-up after a reconnect) a read of the token each second.
  void watch() {
    for (;;) {
      {
        std::lock_guard lock(change_mutex);
        if (stopping) return;
      }
      auto token = deps.store->change_token();
      if (token) {
        std::lock_guard lock(change_mutex);
        if (*token != change_token) {
          change_token = *token;
          changed.notify_all();
        }
      }
      deps.store->wait_for_change(std::chrono::seconds(1));
    }
  }

  // GET /changes?since=TOKEN&wait=SECONDS: answers when the token differs
  // from `since`, or after `wait` seconds with the same token.
  void changes(const httplib::Request& req, httplib::Response& res) {
    for (const auto& [name, value] : req.params)
      if (name != "since" && name != "wait")
        return send_error(res, 400, "unknown parameter '" + name + "'");
    const std::string since = req.has_param("since") ? req.get_param_value("since") : "";
    int wait = 25;
    if (req.has_param("wait")) {
      const auto text = req.get_param_value("wait");
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), wait);
      if (ec != std::errc() || end != text.data() + text.size() || wait < 0 || wait > 60)
        return send_error(res, 400, "wait must be a number of seconds from 0 to 60");
    }
    if (waiting.fetch_add(1) >= kMaxWaiting) {
      waiting.fetch_sub(1);
      res.set_header("Retry-After", "5");
      return send_error(res, 503, "too many clients waiting for changes; try again");
    }
    std::unique_lock lock(change_mutex);
    if (!since.empty())
      changed.wait_for(lock, std::chrono::seconds(wait), [&] {
        return stopping || (!change_token.empty() && change_token != since);
      });
    const std::string token = change_token;
    lock.unlock();
    waiting.fetch_sub(1);
    if (token.empty()) return send_error(res, 503, "the incident store is not readable yet");
    send_json(res, 200, {{"token", token}, {"changed", token != since}});
  }

  bool tls() const { return !options.tls_cert.empty(); }

  void count_login(const char* result) {
    deps.metrics
        .counter("cordon_console_logins_total", "Console login attempts by result",
                 std::string("result=\"") + result + "\"")
        .inc();
  }

  // The request's session; an error when the store cannot say.
  Result<std::optional<Session>, std::string> session_of(const httplib::Request& req) {
    auto token = cookie_value(req, kCookieName);
    if (token.empty()) return std::optional<Session>();
    return sessions.find(token, WallClock::now());
  }

  void add_routes() {
    auto route = [&](std::string method, std::string pattern, Access access, Handler h) {
      routes.push_back({std::move(method), std::regex(pattern), access, std::move(h)});
    };
    const auto open = Access::open, analyst = Access::analyst, admin = Access::admin;
    route("GET", "/api/v1/health", open, [](auto&, auto& res, auto&, auto*) {
      send_json(res, 200, {{"status", "ok"}});
    });
    route("POST", "/api/v1/login", open,
          [this](auto& req, auto& res, auto&, auto*) { login(req, res); });
    route("POST", "/api/v1/logout", analyst, [this](auto& req, auto& res, auto&, auto*) {
      sessions.remove(cookie_value(req, kCookieName));
      sessions_gauge.add(-1);
      res.set_header("Set-Cookie", cookie("", 0));
      send_json(res, 200, {{"status", "ok"}});
    });
    route("GET", "/api/v1/session", analyst, [this](auto&, auto& res, auto&, const Session* s) {
      send_json(res, 200, session_json(*s));
    });
    route("GET", "/api/v1/changes", analyst,
          [this](auto& req, auto& res, auto&, auto*) { changes(req, res); });
    route("GET", "/api/v1/incidents", analyst,
          [this](auto& req, auto& res, auto&, auto*) { api.list_incidents(req, res); });
    route("GET", "/api/v1/incidents\\.csv", analyst,
          [this](auto& req, auto& res, auto&, auto*) { api.export_csv(req, res); });
    route("POST", "/api/v1/incidents/bulk", analyst,
          [this](auto& req, auto& res, auto&, const Session* s) {
            api.bulk_change(req, res, s->user);
          });
    route("GET", "/api/v1/incidents/([^/]+)", analyst,
          [this](auto&, auto& res, auto& m, const Session* s) {
            api.get_incident(res, m[1].str(), s != nullptr && s->role == "admin");
          });
    route("PATCH", "/api/v1/incidents/([^/]+)", analyst,
          [this](auto& req, auto& res, auto& m, const Session* s) {
            api.patch_incident(req, res, m[1].str(), s->user);
          });
    route("GET", "/api/v1/assignees", analyst,
          [this](auto&, auto& res, auto&, auto*) { api.assignees(res); });
    route("GET", "/api/v1/filters", analyst,
          [this](auto&, auto& res, auto&, const Session* s) { api.list_filters(res, s->user); });
    route("PUT", "/api/v1/filters/([^/]+)", analyst,
          [this](auto& req, auto& res, auto& m, const Session* s) {
            api.put_filter(req, res, s->user, m[1].str());
          });
    route("DELETE", "/api/v1/filters/([^/]+)", analyst,
          [this](auto&, auto& res, auto& m, const Session* s) {
            api.delete_filter(res, s->user, m[1].str());
          });
    route("GET", "/api/v1/policies", analyst,
          [this](auto&, auto& res, auto&, auto*) { api.policies(res); });
    route("GET", "/api/v1/stats", analyst,
          [this](auto& req, auto& res, auto&, auto*) { api.stats(req, res); });
    route("POST", "/api/v1/reload", admin,
          [this](auto&, auto& res, auto&, const Session* s) { api.reload(res, s->user); });
    route("GET", "/api/v1/queue", analyst,
          [this](auto&, auto& res, auto&, auto*) { api.queue_list(res); });
    route("POST", "/api/v1/queue/flush", admin, [this](auto&, auto& res, auto&, const Session* s) {
      api.queue_action(res, "flush", "", s->user);
    });
    route("POST", "/api/v1/queue/([^/]+)/(hold|release)", admin,
          [this](auto&, auto& res, auto& m, const Session* s) {
            api.queue_action(res, m[2].str(), m[1].str(), s->user);
          });
    route("DELETE", "/api/v1/queue/([^/]+)", admin,
          [this](auto&, auto& res, auto& m, const Session* s) {
            api.queue_action(res, "delete", m[1].str(), s->user);
          });
    route("GET", "/api/v1/server", analyst,
          [this](auto&, auto& res, auto&, auto*) { api.health(res); });
    route("GET", "/api/v1/users", admin,
          [this](auto&, auto& res, auto&, auto*) { api.list_users(res); });
    route("POST", "/api/v1/users", admin, [this](auto& req, auto& res, auto&, const Session* s) {
      api.create_user(req, res, s->user);
    });
    route("PATCH", "/api/v1/users/([^/]+)", admin,
          [this](auto& req, auto& res, auto& m, const Session* s) {
            api.patch_user(req, res, m[1].str(), s->user);
          });
    route("DELETE", "/api/v1/users/([^/]+)", admin,
          [this](auto&, auto& res, auto& m, const Session* s) {
            api.delete_user(res, m[1].str(), s->user);
          });
  }

  std::string cookie(const std::string& token, long max_age) const {
    return std::string(kCookieName) + "=" + token + "; Path=/; Max-Age=" + std::to_string(max_age) +
           "; HttpOnly; SameSite=Strict" + (tls() ? "; Secure" : "");
  }

  nlohmann::json session_json(const Session& s) const {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(s.expires - WallClock::now());
    return {{"user", s.user},
            {"role", s.role},
            {"csrf_token", s.csrf_token},
            {"expires_in", left.count()}};
  }

  void login(const httplib::Request& req, httplib::Response& res) {
    // A JSON body cannot be sent cross-site without a CORS preflight, which
    // this server never grants: no login CSRF through a hidden form.
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0)
      return send_error(res, 400, "expected a JSON body {\"username\", \"password\"}");
    auto client = req.remote_addr;
    auto now = SteadyClock::now();
    if (auto wait = throttle.wait_time(client, now); wait.count() > 0) {
      count_login("throttled");
      res.set_header("Retry-After", std::to_string(wait.count()));
      return send_error(
          res, 429, "too many failed logins; try again in " + std::to_string(wait.count()) + " s");
    }
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("username") ||
        !body.contains("password") || !body["username"].is_string() ||
        !body["password"].is_string())
      return send_error(res, 400, "expected a JSON body {\"username\", \"password\"}");
    auto name = body["username"].get<std::string>();
    auto password = body["password"].get<std::string>();
    auto users = deps.store->users();
    if (!users) {
      spdlog::error("console: incident store: {}", users.error().message);
      return send_error(res, 503, "the incident store failed; try again");
    }
    const incidents::ConsoleUser* user = nullptr;
    for (const auto& u : *users)
      if (u.name == name) user = &u;
    // Guesses for one name from many addresses are slowed down too.
    if (auto wait = throttle.user_wait_time(name, user != nullptr, client, now); wait.count() > 0) {
      count_login("throttled");
      res.set_header("Retry-After", std::to_string(wait.count()));
      return send_error(
          res, 429, "too many failed logins; try again in " + std::to_string(wait.count()) + " s");
    }
    if (checks_in_flight.fetch_add(1) >= kMaxConcurrentChecks) {
      checks_in_flight.fetch_sub(1);
      count_login("busy");
      res.set_header("Retry-After", "1");
      return send_error(res, 503, "too many logins at once; try again in a moment");
    }
    bool ok = verify_password(password, user ? user->password_hash : dummy_hash) && user;
    checks_in_flight.fetch_sub(1);
    if (!ok) {
      // The wait counts from when the failure is known: a slow hash check
      // must not use up the delay it is about to impose.
      throttle.failed(client, SteadyClock::now());
      throttle.user_failed(name, user != nullptr, SteadyClock::now());
      count_login("failed");
      spdlog::warn("console: failed login for user '{}' from {}", name.substr(0, 64), client);
      return send_error(res, 401, "wrong user name or password");
    }
    throttle.succeeded(client);
    throttle.user_succeeded(user->name, client);
    count_login("ok");
    auto created = sessions.create(user->name, user->role, WallClock::now());
    if (!created) {
      spdlog::error("console: cannot store a session: {}", created.error());
      return send_error(res, 503, "the incident store failed; try again");
    }
    sessions_gauge.add(1);
    spdlog::info("console: {} ({}) logged in from {}", user->name, user->role, client);
    res.set_header("Set-Cookie", cookie(created->token, options.session_ttl.count()));
    send_json(res, 200, session_json(created->session));
  }

  void api_request(const httplib::Request& req, httplib::Response& res) {
    std::smatch match;
    std::vector<const Route*> on_path;
    const Route* chosen = nullptr;
    for (const auto& r : routes) {
      if (!std::regex_match(req.path, match, r.pattern)) continue;
      on_path.push_back(&r);
      if (r.method == req.method) {
        chosen = &r;
        break;
      }
    }
    bool public_route = chosen && chosen->access == Access::open;
    std::optional<Session> session;
    if (!public_route) {
      auto found = session_of(req);
      if (!found) {
        spdlog::error("console: incident store: {}", found.error());
        return send_error(res, 503, "the incident store failed; try again");
      }
      session = std::move(*found);
      if (!session) return send_error(res, 401, "authentication required");
    }
    if (!chosen) {
      if (on_path.empty()) return send_error(res, 404, "no such API endpoint");
      std::string allow;
      for (auto* r : on_path) allow += (allow.empty() ? "" : ", ") + r->method;
      res.set_header("Allow", allow);
      return send_error(res, 405, "method not allowed; use " + allow);
    }
    if (session && is_write(req.method) &&
        !equal_secrets(req.get_header_value("X-CSRF-Token"), session->csrf_token))
      return send_error(res, 403, "missing or wrong CSRF token (X-CSRF-Token)");
    if (chosen->access == Access::admin && session && session->role != "admin")
      return send_error(res, 403, "this needs the admin role");
    std::regex_match(req.path, match, chosen->pattern);
    chosen->handler(req, res, match, session ? &*session : nullptr);
  }

  void metrics_request(const httplib::Request& req, httplib::Response& res) {
    if (!metrics_public) {
      auto session = session_of(req);
      if (!session || !*session) return send_error(res, 401, "authentication required");
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(deps.metrics.render_prometheus(), "text/plain; version=0.0.4");
  }

  void asset_request(const httplib::Request& req, httplib::Response& res) {
    const Asset* asset = find_asset(req.path);
    if (!asset) return send_error(res, 404, "not found");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(asset->body), std::string(content_type_for(asset->path)));
  }

  void dispatch(const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/api/v1" || req.path.rfind("/api/", 0) == 0) return api_request(req, res);
    if (req.path == "/metrics") {
      if (req.method != "GET") {
        res.set_header("Allow", "GET");
        return send_error(res, 405, "method not allowed; use GET");
      }
      return metrics_request(req, res);
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET");
      return send_error(res, 405, "method not allowed; use GET");
    }
    asset_request(req, res);
  }

  Status<std::string> start() {
    if (tls()) {
      auto ssl =
          std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
      if (!ssl->is_valid())
        return fail("console: cannot load the TLS certificate " + options.tls_cert + " or key " +
                    options.tls_key);
      http = std::move(ssl);
    } else {
      http = std::make_unique<httplib::Server>();
    }
    http->set_payload_max_length(kMaxBody);
    http->set_read_timeout(10, 0);
    http->set_write_timeout(10, 0);
    http->set_keep_alive_timeout(5);
    http->set_default_headers({{"X-Content-Type-Options", "nosniff"},
                               {"X-Frame-Options", "DENY"},
                               {"Referrer-Policy", "no-referrer"},
                               {"Content-Security-Policy", kContentSecurityPolicy}});
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      dispatch(req, res);
    };
    // One catch-all per method: routing, 404 and 405 are decided in dispatch().
    http->Get(".*", handler);
    http->Post(".*", handler);
    http->Patch(".*", handler);
    http->Put(".*", handler);
    http->Delete(".*", handler);
    http->Options(".*", handler);
    http->set_exception_handler(
        [](const auto&, auto& res, std::exception_ptr) { send_error(res, 500, "internal error"); });
    http->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      auto code_class = std::to_string(res.status / 100) + "xx";
      deps.metrics
          .counter("cordon_console_http_requests_total", "Console HTTP requests by status class",
                   "code=\"" + code_class + "\"")
          .inc();
      spdlog::debug("console: {} {} {} {}", req.remote_addr, req.method, req.path, res.status);
    });

    int port = options.port;
    if (port == 0) {
      port = http->bind_to_any_port(options.host);
      if (port < 0) return fail("console: cannot listen on " + listen_text(options));
    } else if (!http->bind_to_port(options.host, port)) {
      return fail("console: cannot listen on " + listen_text(options) +
                  " (address in use or not available)");
    }
    // Long-polls (GET /changes) hold a thread each while they wait.
    http->new_task_queue = [] { return new httplib::ThreadPool(kMaxWaiting + 8); };
    thread = std::thread([this] { http->listen_after_bind(); });
    watcher = std::thread([this] { watch(); });
    spdlog::info("console: serving {}://{}:{}/", tls() ? "https" : "http", options.host, port);
    return Ok{};
  }

  void stop() {
    {
      std::lock_guard lock(change_mutex);
      stopping = true;
    }
    changed.notify_all();
    if (http) http->stop();
    if (thread.joinable()) thread.join();
    if (watcher.joinable()) watcher.join();
  }
};

Result<std::unique_ptr<Server>, std::string> Server::start(ConsoleOptions options,
                                                           Dependencies deps) {
  if (auto seeded = seed_users(options, *deps.store); !seeded) return fail(seeded.error());
  std::unique_ptr<Server> server(
      new Server(std::make_unique<Impl>(std::move(options), std::move(deps))));
  if (auto started = server->impl_->start(); !started) return fail(started.error());
  return server;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
}

void Server::stop() {
  impl_->stop();
}

}  // namespace cordon::console
