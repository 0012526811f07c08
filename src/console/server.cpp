// The console HTTP server: the users, routing, sessions, CSRF, security
// headers, static assets and /metrics; the API handlers live in api.cpp.
//
// Security model: every /api/v1 route except /health and /login needs a
// session cookie (HttpOnly, SameSite=Strict, Secure under TLS); every
// state-changing request also needs the session's CSRF token in the
// X-CSRF-Token header. Authentication is checked before routing, so an
// anonymous client cannot even tell which routes exist.
#include "console/console.hpp"

#include <spdlog/spdlog.h>

#include <openssl/crypto.h>

#include <atomic>
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

// The configured users, each hash checked; without any, the users file's.
Result<std::vector<User>, std::string> load_users(const ConsoleOptions& options) {
  if (!options.users.empty()) {
    for (const auto& user : options.users)
      if (auto ok = check_hash_format(user.password_hash); !ok)
        return fail((user.origin.empty() ? "" : user.origin + ": ") + "console user '" + user.name +
                    "': " + ok.error());
    return options.users;
  }
  auto file = load_or_create_users_file(options.users_file);
  if (!file) return fail("console: " + file.error());
  if (file->generated_password)
    // Shown once, on the run that creates the file; only its hash is kept.
    spdlog::warn(
        "console: created user 'admin' with password '{}' (stored hashed in {}; shown only "
        "this once)",
        *file->generated_password, options.users_file);
  return std::move(file->users);
}

}  // namespace

struct Server::Impl {
  using Handler = std::function<void(const httplib::Request&, httplib::Response&,
                                     const std::smatch&, const Session*)>;
  struct Route {
    std::string method;
    std::regex pattern;
    bool needs_session;
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

  Impl(ConsoleOptions o, Dependencies d)
      : options(std::move(o)),
        metrics_public(options.metrics_public.value_or(is_loopback(options.host))),
        deps(std::move(d)),
        api(deps),
        sessions(options.session_ttl),
        sessions_gauge(deps.metrics.gauge("cordon_console_sessions", "Live console sessions")) {
    unsigned iterations =
        options.users.empty() ? 0 : hash_iterations(options.users[0].password_hash);
    dummy_hash = hash_password(util::random_hex(16), iterations ? iterations : 600000);
    add_routes();
  }

  bool tls() const { return !options.tls_cert.empty(); }

  void count_login(const char* result) {
    deps.metrics
        .counter("cordon_console_logins_total", "Console login attempts by result",
                 std::string("result=\"") + result + "\"")
        .inc();
  }

  std::optional<Session> session_of(const httplib::Request& req) {
    auto token = cookie_value(req, kCookieName);
    if (token.empty()) return std::nullopt;
    return sessions.find(token, SteadyClock::now());
  }

  void add_routes() {
    auto route = [&](std::string method, std::string pattern, bool needs_session, Handler h) {
      routes.push_back({std::move(method), std::regex(pattern), needs_session, std::move(h)});
    };
    route("GET", "/api/v1/health", false, [](auto&, auto& res, auto&, auto*) {
      send_json(res, 200, {{"status", "ok"}});
    });
    route("POST", "/api/v1/login", false,
          [this](auto& req, auto& res, auto&, auto*) { login(req, res); });
    route("POST", "/api/v1/logout", true, [this](auto& req, auto& res, auto&, auto*) {
      sessions.remove(cookie_value(req, kCookieName));
      sessions_gauge.set(static_cast<std::int64_t>(sessions.size()));
      res.set_header("Set-Cookie", cookie("", 0));
      send_json(res, 200, {{"status", "ok"}});
    });
    route("GET", "/api/v1/session", true, [this](auto&, auto& res, auto&, const Session* s) {
      send_json(res, 200, session_json(*s));
    });
    route("GET", "/api/v1/incidents", true,
          [this](auto& req, auto& res, auto&, auto*) { api.list_incidents(req, res); });
    route("GET", "/api/v1/incidents/([^/]+)", true,
          [this](auto&, auto& res, auto& m, auto*) { api.get_incident(res, m[1].str()); });
    route("PATCH", "/api/v1/incidents/([^/]+)", true,
          [this](auto& req, auto& res, auto& m, const Session* s) {
            api.patch_incident(req, res, m[1].str(), s->user);
          });
    route("GET", "/api/v1/policies", true,
          [this](auto&, auto& res, auto&, auto*) { api.policies(res); });
    route("GET", "/api/v1/stats", true,
          [this](auto& req, auto& res, auto&, auto*) { api.stats(req, res); });
    route("POST", "/api/v1/reload", true,
          [this](auto&, auto& res, auto&, const Session* s) { api.reload(res, s->user); });
  }

  std::string cookie(const std::string& token, long max_age) const {
    return std::string(kCookieName) + "=" + token + "; Path=/; Max-Age=" + std::to_string(max_age) +
           "; HttpOnly; SameSite=Strict" + (tls() ? "; Secure" : "");
  }

  nlohmann::json session_json(const Session& s) const {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(s.expires - SteadyClock::now());
    return {{"user", s.user}, {"csrf_token", s.csrf_token}, {"expires_in", left.count()}};
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
    const User* user = nullptr;
    for (const auto& u : options.users)
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
    auto created = sessions.create(user->name, SteadyClock::now());
    sessions_gauge.set(static_cast<std::int64_t>(sessions.size()));
    spdlog::info("console: {} logged in from {}", user->name, client);
    res.set_header("Set-Cookie", cookie(created.token, options.session_ttl.count()));
    send_json(res, 200, session_json(created.session));
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
    bool public_route = chosen && !chosen->needs_session;
    std::optional<Session> session;
    if (!public_route) {
      session = session_of(req);
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
    std::regex_match(req.path, match, chosen->pattern);
    chosen->handler(req, res, match, session ? &*session : nullptr);
  }

  void metrics_request(const httplib::Request& req, httplib::Response& res) {
    if (!metrics_public && !session_of(req)) return send_error(res, 401, "authentication required");
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
    thread = std::thread([this] { http->listen_after_bind(); });
    spdlog::info("console: serving {}://{}:{}/", tls() ? "https" : "http", options.host, port);
    return Ok{};
  }

  void stop() {
    if (http) http->stop();
    if (thread.joinable()) thread.join();
  }
};

Result<std::unique_ptr<Server>, std::string> Server::start(ConsoleOptions options,
                                                           Dependencies deps) {
  auto users = load_users(options);
  if (!users) return fail(users.error());
  options.users = std::move(*users);
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
