// The prevent role's factory and lifetime: opens the incident store, loads
// the deployment id, and runs the SMTP listener whose sessions are
// prevent_session.cpp's handlers.
#include "roles/prevent/prevent_role.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <asio/ip/host_name.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "incidents/sqlite_store.hpp"
#include "roles/factory.hpp"
#include "roles/prevent/prevent_session.hpp"
#include "smtp/server.hpp"

namespace cordon::roles {
namespace {

namespace fs = std::filesystem;

std::string random_hex(std::size_t bytes) {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(device()) & 0xffu;
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

Result<std::string, std::string> read_id(const fs::path& file) {
  std::ifstream in(file);
  std::string id;
  if (!(in >> id) || id.empty()) return fail("cannot read " + file.string());
  return id;
}

smtp::ServerLimits limits_from(const config::SmtpLimits& smtp) {
  smtp::ServerLimits limits;
  limits.max_data_line = smtp.max_line_length;
  limits.max_message_size = smtp.max_message_size;
  limits.max_recipients = smtp.max_recipients;
  limits.max_errors = smtp.max_errors;
  limits.max_connections = smtp.max_connections;
  limits.idle_timeout = smtp.idle_timeout;
  limits.data_timeout = smtp.command_timeout;
  return limits;
}

Result<asio::ip::tcp::endpoint, std::string> resolve_listen(const config::HostPort& where) {
  std::error_code ec;
  auto address = asio::ip::make_address(where.host, ec);
  if (!ec) return asio::ip::tcp::endpoint(address, where.port);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto found = resolver.resolve(where.host, std::to_string(where.port), ec);
  if (ec || found.empty()) return fail("cannot resolve " + where.host + ": " + ec.message());
  return found.begin()->endpoint();
}

}  // namespace

namespace {

// Reads <data_dir>/<name>, creating it with `bytes` random bytes (hex) when
// it does not exist yet.
Result<std::string, std::string> load_or_create_secret(const std::string& data_dir,
                                                       const std::string& name, std::size_t bytes) {
  const fs::path file = fs::path(data_dir) / name;
  std::error_code ec;
  if (fs::exists(file, ec)) return read_id(file);
  fs::create_directories(data_dir, ec);
  if (ec) return fail("cannot create " + data_dir + ": " + ec.message());
  // Written aside and linked into place: link() fails when another process
  // got there first, and then its value is the one everybody uses.
  const fs::path staging = fs::path(data_dir) / (name + "." + random_hex(8) + ".tmp");
  {
    std::ofstream out(staging);
    fs::permissions(staging, fs::perms::owner_read | fs::perms::owner_write, ec);
    out << random_hex(bytes) << "\n";
    if (!out.flush()) return fail("cannot write " + staging.string());
  }
  if (::link(staging.c_str(), file.c_str()) != 0 && errno != EEXIST) {
    std::string why = std::strerror(errno);
    fs::remove(staging, ec);
    return fail("cannot create " + file.string() + ": " + why);
  }
  fs::remove(staging, ec);
  return read_id(file);
}

}  // namespace

Result<prevent::Deployment, std::string> load_or_create_deployment(const std::string& data_dir) {
  auto id = load_or_create_secret(data_dir, "deployment-id", 16);
  if (!id) return fail(id.error());
  auto key = load_or_create_secret(data_dir, "deployment-key", 32);
  if (!key) return fail(key.error());
  return prevent::Deployment{std::move(id).value(), std::move(key).value()};
}

PreventRole::PreventRole(Shared& shared) : shared_(shared) {}
PreventRole::~PreventRole() = default;

Status<std::string> PreventRole::start() {
  auto config = shared_.config.get();
  if (!config->prevent) return fail(std::string("the configuration has no prevent section"));
  if (config->incidents != "sqlite")
    return fail("prevent: incident store " + config->incidents + " is not supported, use sqlite");

  auto context = std::make_shared<prevent::PreventContext>(
      shared_.io.get_executor(), shared_.workers, shared_.config, shared_.metrics);
  auto deployment = load_or_create_deployment(config->data_dir);
  if (!deployment) return fail("prevent: deployment: " + deployment.error());
  context->deployment = std::move(deployment).value();
  const std::string db = (fs::path(config->data_dir) / "incidents.db").string();
  auto store = incidents::SqliteIncidentStore::open(db);
  if (!store) return fail("prevent: incident store " + db + ": " + store.error().message);
  context->store = std::move(store).value();
  std::error_code ec;
  context->hostname = asio::ip::host_name(ec);
  if (ec || context->hostname.empty()) context->hostname = "localhost";
  // The upstream MTA waits for our final reply while we wait for the next
  // hop's: our waits must end first (Postfix waits 600 s for it).
  context->downstream_timeouts.connect = std::chrono::seconds(10);
  context->downstream_timeouts.greeting = std::chrono::seconds(60);
  context->downstream_timeouts.helo = std::chrono::seconds(60);
  context->downstream_timeouts.mail = std::chrono::seconds(60);
  context->downstream_timeouts.rcpt = std::chrono::seconds(60);
  context->downstream_timeouts.data = std::chrono::seconds(60);
  context->downstream_timeouts.data_end = std::chrono::seconds(300);
  context->downstream_timeouts.quit = std::chrono::seconds(10);
  context_ = context;

  auto where = resolve_listen(config->prevent->listen);
  if (!where) return fail("prevent: listen: " + where.error());
  smtp::ServerOptions options;
  options.hostname = context->hostname;
  options.limits = limits_from(config->smtp);
  server_ = std::make_unique<smtp::Server>(shared_.io.get_executor(), options, [context] {
    return prevent::make_prevent_handler(context);
  });
  auto bound = server_->listen(*where);
  if (!bound) {
    return fail("prevent: cannot listen on " + config->prevent->listen.to_string() + ": " +
                bound.error().message());
  }
  endpoint_ = *bound;
  spdlog::info("prevent listening on {}:{} ({} mode, next hop {}, deployment {})",
               bound->address().to_string(), bound->port(),
               config->prevent->mode == config::PreventMode::forward ? "forward" : "reflect",
               config->prevent->next_hop.to_string(), context->deployment.id);
  return Ok{};
}

void PreventRole::shutdown() {
  if (server_) server_->shutdown();
}

bool PreventRole::busy() const { return server_ && server_->session_count() > 0; }

RoleResult make_prevent_role(Shared& shared) {
  return std::unique_ptr<Role>(std::make_unique<PreventRole>(shared));
}

}  // namespace cordon::roles
