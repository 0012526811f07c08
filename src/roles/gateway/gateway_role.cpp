// The gateway role: wires the spool, the two SMTP listeners and the queue
// manager together (the work itself is in gateway_listener.cpp,
// gateway_queue.cpp and gateway_attempt.cpp, and in the queue component).
#include <spdlog/spdlog.h>

#include <asio/ip/tcp.hpp>

#include "inspect/stamp.hpp"
#include "queue/spool.hpp"
#include "roles/factory.hpp"
#include "roles/gateway/gateway_listener.hpp"
#include "roles/gateway/gateway_queue.hpp"
#include "roles/gateway/gateway_support.hpp"

namespace cordon::roles {
namespace {

using namespace gateway;

class GatewayRole final : public Role {
 public:
  explicit GatewayRole(Shared& shared) : shared_(shared) {}

  std::string_view name() const override { return "gateway"; }

  Status<std::string> start() override {
    auto config = shared_.config.get();
    const auto& gw = *config->gateway;
    const std::string hostname = gateway_hostname(gw);

    auto spool = queue::Spool::open(spool_options(*config, shared_.metrics));
    if (!spool) return fail("cannot open the queue: " + spool.error().detail);
    auto recovered = spool->recover();
    if (!recovered) return fail("queue recovery failed: " + recovered.error().detail);
    spdlog::info(
        "gateway queue {}: recovered {} active message(s), purged {} unfinished write(s), {} "
        "quarantined",
        spool->root().string(), recovered->requeued_active, recovered->purged_staging,
        recovered->quarantined);

    std::vector<std::string> dlp_addresses;
    for (const auto& hp : gw.dlp.hosts) {
      // Resolved once, at start, as the listen addresses are.
      auto addresses = smtp::resolve_at_start(hp.host, hp.port);
      if (!addresses) {
        spdlog::warn("gateway: DLP host {}: {}", hp.to_string(), addresses.error());
        continue;
      }
      for (const auto& a : *addresses) dlp_addresses.push_back(a.to_string());
    }

    // The key prevent stamps inspected mail with: shared through data_dir
    // (or the same two files copied to the prevent host's data_dir).
    auto deployment = inspect::load_or_create_deployment(config->data_dir);
    if (!deployment) return fail("gateway: deployment: " + deployment.error());

    manager_ = std::make_shared<QueueManager>(shared_, *spool, hostname);
    std::weak_ptr<QueueManager> manager = manager_;
    auto context = std::make_shared<ListenerContext>(
        ListenerContext{&shared_, *spool, hostname, dlp_addresses, std::move(deployment).value(),
                        [manager](const std::string& id, bool skip_dlp) {
                          if (auto m = manager.lock()) m->committed(id, skip_dlp);
                        },
                        [manager](const std::string& id) {
                          auto m = manager.lock();
                          return m && m->begin_in_place(id);
                        },
                        [manager](const std::string& id, bool kept) {
                          if (auto m = manager.lock()) m->end_in_place(id, kept);
                        }});

    auto made = server_options(*config, hostname);
    if (!made) return fail(made.error());
    const smtp::ServerOptions& options = *made;
    client_ = std::make_unique<smtp::Server>(shared_.io.get_executor(), options,
                                             make_handler_factory(context, ListenerKind::client));
    // require_tls is for the clients: prevent's relay resubmits in
    // plaintext, and only the DLP hosts may use this listener at all.
    smtp::ServerOptions resubmit_options = options;
    resubmit_options.require_tls = false;
    resubmit_ =
        std::make_unique<smtp::Server>(shared_.io.get_executor(), resubmit_options,
                                       make_handler_factory(context, ListenerKind::resubmit));
    if (auto bound = listen(*client_, gw.listen, "gateway.listen"); !bound) return bound;
    if (auto bound = listen(*resubmit_, gw.resubmit_listen, "gateway.resubmit_listen"); !bound)
      return bound;

    manager_->start();
    std::string hosts;
    for (const auto& hp : gw.dlp.hosts) hosts += (hosts.empty() ? "" : ", ") + hp.to_string();
    spdlog::info(
        "gateway {} listening on {} (resubmission {}, stamps of deployment {}, STARTTLS {}), DLP "
        "[{}] bypass {}, delivering to {}",
        hostname, gw.listen.to_string(), gw.resubmit_listen.to_string(), context->deployment.id,
        !gw.tls.enabled() ? "off"
        : gw.tls.require  ? "required"
                          : "offered",
        hosts, gw.dlp.bypass ? "on" : "off (fail closed)",
        gw.smarthost ? gw.smarthost->to_string() : config->data_dir + "/maildir");
    return Ok{};
  }

  void reload(const std::shared_ptr<const config::Config>& config) override {
    if (manager_ && config->gateway) manager_->reload(config);
  }

  void shutdown() override {
    if (client_) client_->shutdown();
    if (resubmit_) resubmit_->shutdown();
    if (manager_) manager_->stop();
  }

  bool busy() const override {
    return (client_ && client_->session_count() > 0) ||
           (resubmit_ && resubmit_->session_count() > 0) || (manager_ && manager_->busy());
  }

 private:
  Status<std::string> listen(smtp::Server& server, const config::HostPort& where, const char* key) {
    auto addresses = smtp::resolve_at_start(where.host, where.port);
    if (!addresses)
      return fail(std::string(key) + " " + where.to_string() + ": " + addresses.error());
    auto bound = server.listen({addresses->front(), where.port});
    if (!bound)
      return fail(std::string(key) + " " + where.to_string() + ": " + bound.error().message());
    return Ok{};
  }

  Shared& shared_;
  std::shared_ptr<QueueManager> manager_;
  std::unique_ptr<smtp::Server> client_;
  std::unique_ptr<smtp::Server> resubmit_;
};

}  // namespace

RoleResult make_gateway_role(Shared& shared) {
  return std::unique_ptr<Role>(std::make_unique<GatewayRole>(shared));
}

}  // namespace cordon::roles
