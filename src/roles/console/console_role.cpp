// The console role: maps the configuration's console section onto
// ConsoleOptions, opens the incident store and starts the console
// (src/console/), which does the work.
#include <filesystem>
#include <future>

#include "console/console.hpp"
#include "incidents/open_store.hpp"
#include "roles/factory.hpp"

namespace cordon::roles {
namespace {

console::ConsoleOptions console_options(const config::Config& config) {
  const auto& section = *config.console;
  console::ConsoleOptions options;
  options.host = section.listen.host;
  options.port = section.listen.port;
  options.tls_cert = section.tls_cert;
  options.tls_key = section.tls_key;
  options.session_ttl = std::chrono::duration_cast<std::chrono::seconds>(section.session_ttl);
  options.metrics_public = section.metrics_public;
  for (const auto& user : section.users)
    options.users.push_back(
        {user.name, user.password_hash, config.source + ":" + std::to_string(user.mark.line)});
  options.users_file = (std::filesystem::path(config.data_dir) / "console-users").string();
  return options;
}

class ConsoleRole final : public Role {
 public:
  ConsoleRole(Shared& shared) : shared_(shared) {}

  std::string_view name() const override { return "console"; }

  Status<std::string> start() override {
    auto config = shared_.config.get();
    std::filesystem::path data_dir(config->data_dir);
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec)
      return fail("console: cannot create data_dir " + data_dir.string() + ": " + ec.message());
    auto store = incidents::open_store(config->incidents, data_dir);
    if (!store) return fail("console: incident store: " + store.error().message);

    auto server =
        console::Server::start(console_options(*config),
                               {.store = std::move(*store),
                                .metrics = shared_.metrics,
                                .config = [&snapshot = shared_.config] { return snapshot.get(); },
                                .reload =
                                    [reload = shared_.reload] {
                                      // The runtime compiles on its own thread and swaps the
                                      // snapshot on the I/O thread; this HTTP thread only waits.
                                      std::promise<Status<std::string>> done;
                                      done.set_value(reload());
                                      return done.get_future();
                                    },
                                .reload_unavailable = shared_.reload_unavailable});
    if (!server) return fail(server.error());
    server_ = std::move(*server);
    return Ok{};
  }

  void shutdown() override {
    if (server_) server_->stop();
  }
  // stop() joins the HTTP server's thread: nothing is left in flight.
  bool busy() const override { return false; }

 private:
  Shared& shared_;
  std::unique_ptr<console::Server> server_;
};

}  // namespace

RoleResult make_console_role(Shared& shared) {
  return std::unique_ptr<Role>(std::make_unique<ConsoleRole>(shared));
}

}  // namespace cordon::roles
