// The console role: wires the incident store, the users (from the
// configuration, or the generated users file) and the HTTP server. The work
// is done in console_server.cpp, console_api.cpp and console_auth.cpp.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "incidents/sqlite_store.hpp"
#include "roles/console/console_server.hpp"
#include "roles/factory.hpp"

namespace cordon::roles {
namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

class ConsoleRole final : public Role {
 public:
  ConsoleRole(Shared& shared) : shared_(shared) {}

  std::string_view name() const override { return "console"; }

  Status<std::string> start() override {
    auto config = shared_.config.get();
    const auto& section = *config->console;
    console::ServerOptions options;
    options.listen = section.listen;
    options.tls_cert = section.tls_cert;
    options.tls_key = section.tls_key;
    options.session_ttl = std::chrono::duration_cast<std::chrono::seconds>(section.session_ttl);
    options.metrics_public = section.metrics_public.value_or(is_loopback(section.listen.host));

    std::filesystem::path data_dir(config->data_dir);
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec)
      return fail("console: cannot create data_dir " + data_dir.string() + ": " + ec.message());

    if (!section.users.empty()) {
      for (const auto& user : section.users) {
        if (auto ok = console::check_hash_format(user.password_hash); !ok)
          return fail(config->source + ":" + std::to_string(user.mark.line) + ": console user '" +
                      user.name + "': " + ok.error());
        options.users.push_back({user.name, user.password_hash});
      }
    } else {
      auto users = console::load_or_create_users_file((data_dir / "console-users").string());
      if (!users) return fail("console: " + users.error());
      if (users->generated_password)
        // Shown once, on the run that creates the file; only its hash is kept.
        spdlog::warn(
            "console: created user 'admin' with password '{}' (stored hashed in {}; shown only "
            "this once)",
            *users->generated_password, (data_dir / "console-users").string());
      options.users = std::move(users->users);
    }

    if (config->incidents != "sqlite")
      return fail(
          std::string("console: only the sqlite incident store is supported by this build"));
    auto store = incidents::SqliteIncidentStore::open((data_dir / "incidents.db").string());
    if (!store) return fail("console: incident store: " + store.error().message);

    server_ = std::make_unique<console::Server>(std::move(options), shared_, std::move(*store));
    return server_->start();
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
