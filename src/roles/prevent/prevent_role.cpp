// The prevent role's factory and lifetime: opens the incident store, loads
// the deployment id, builds the inspection snapshot (at start and on each
// reload), and runs the SMTP listener whose sessions are
// prevent_session.cpp's handlers.
#include "roles/prevent/prevent_role.hpp"

#include <spdlog/spdlog.h>

#include <asio/ip/host_name.hpp>

#include "inspect/from_config.hpp"
#include "roles/factory.hpp"
#include "roles/prevent/prevent_session.hpp"
#include "roles/smtp_limits.hpp"
#include "smtp/server.hpp"

namespace cordon::roles {
namespace {

// The adapter from the configuration to what prevent's sessions use: the
// pipeline's options plus prevent's own filters and this deployment.
std::shared_ptr<const prevent::PreventSnapshot> snapshot_for(
    std::shared_ptr<const config::Config> config, const inspect::Deployment& deployment) {
  auto options = inspect::options_from(*config);
  options.sender_filter = config->prevent->filters.sender;
  options.recipient_filter = config->prevent->filters.recipient;
  options.deployment = deployment;
  if (options.scan_fault)
    spdlog::warn(
        "prevent: CORDON_TEST_FAIL_SCAN is set: scans of texts holding it fail (tests only)");
  return std::make_shared<const prevent::PreventSnapshot>(
      prevent::PreventSnapshot{std::move(config), inspect::make_snapshot(std::move(options))});
}

}  // namespace

PreventRole::PreventRole(Shared& shared) : shared_(shared) {}
PreventRole::~PreventRole() = default;

Status<std::string> PreventRole::start() {
  auto config = shared_.config.get();
  if (!config->prevent) return fail(std::string("the configuration has no prevent section"));

  auto context = std::make_shared<prevent::PreventContext>(shared_.io.get_executor(),
                                                           shared_.workers, shared_.metrics);
  auto deployment = inspect::load_or_create_deployment(config->data_dir);
  if (!deployment) return fail("prevent: deployment: " + deployment.error());
  deployment_ = std::move(deployment).value();
  context->snapshot.set(snapshot_for(config, deployment_));
  auto store = shared_.incident_store();
  if (!store) return fail("prevent: incident store: " + store.error());
  context->store = std::move(store).value();
  std::error_code ec;
  context->hostname = asio::ip::host_name(ec);
  if (ec || context->hostname.empty()) context->hostname = "localhost";
  context->sessions = smtp::SessionCache::create(shared_.io.get_executor());
  context_ = context;

  const auto& listen = config->prevent->listen;
  auto addresses = smtp::resolve_at_start(listen.host, listen.port);
  if (!addresses) return fail("prevent: listen: " + addresses.error());
  const asio::ip::tcp::endpoint where(addresses->front(), listen.port);
  smtp::ServerOptions options;
  options.hostname = context->hostname;
  options.limits = server_limits(config->smtp);
  auto tls = server_tls(config->prevent->tls, "prevent");
  if (!tls) return fail(tls.error());
  options.tls = std::move(tls).value();
  options.require_tls = config->prevent->tls.require;
  // XFORWARD is read at each session's EHLO: taken from the configuration
  // in force at start (a restart applies a change, see reload_diff).
  options.xforward_allowed = address_matcher(config->prevent->xforward_networks);
  server_ = std::make_unique<smtp::Server>(shared_.io.get_executor(), options, [context] {
    return prevent::make_prevent_handler(context);
  });
  auto bound = server_->listen(where);
  if (!bound) {
    return fail("prevent: cannot listen on " + config->prevent->listen.to_string() + ": " +
                bound.error().message());
  }
  endpoint_ = *bound;
  const auto& tls_config = config->prevent->tls;
  spdlog::info("prevent listening on {}:{} ({} mode, next hop {}, deployment {}, STARTTLS {})",
               bound->address().to_string(), bound->port(),
               config->prevent->mode == config::PreventMode::forward ? "forward" : "reflect",
               config->prevent->next_hop.to_string(), deployment_.id,
               !tls_config.enabled() ? "off"
               : tls_config.require  ? "required"
                                     : "offered");
  return Ok{};
}

void PreventRole::reload(const std::shared_ptr<const config::Config>& config) {
  if (!context_) return;
  if (!config->prevent) {
    spdlog::warn(
        "prevent: the new configuration has no prevent section; sessions keep the "
        "previous one until a restart");
    return;
  }
  context_->snapshot.set(snapshot_for(config, deployment_));
}

void PreventRole::shutdown() {
  if (server_) server_->shutdown();
  if (context_ && context_->sessions) {
    const auto c = context_->sessions->counters();
    spdlog::info(
        "prevent: {} next hop sessions reused, {} opened ({} found closed by the next hop)",
        c.reused, c.opened, c.stale);
    context_->sessions->clear();
  }
}

bool PreventRole::busy() const {
  return server_ && server_->session_count() > 0;
}

RoleResult make_prevent_role(Shared& shared) {
  return std::unique_ptr<Role>(std::make_unique<PreventRole>(shared));
}

}  // namespace cordon::roles
