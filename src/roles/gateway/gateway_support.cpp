// The gateway's host name and its configuration adapters (see gateway_support.hpp).
#include "roles/gateway/gateway_support.hpp"

#include "roles/smtp_limits.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>

namespace cordon::roles::gateway {

namespace {
// Enough for every message in flight at the default concurrency to find a
// directory ready when it arrives; each holds at most 256 KiB of old content.
constexpr std::size_t kReusedQueueEntries = 256;
}  // namespace

std::string gateway_hostname(const config::GatewayConfig& config) {
  if (!config.hostname.empty()) return config.hostname;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return name.data();
}

queue::SpoolOptions spool_options(const config::Config& config, util::Metrics& metrics) {
  queue::SpoolOptions options{config.data_dir, config.gateway->min_free, {}};
  // The gateway owns its queue: finished messages' directories are reused.
  options.reuse_entries = kReusedQueueEntries;
  options.on_quarantine = [&metrics](queue::Damage damage) {
    metrics
        .counter("cordon_queue_quarantined_total",
                 "Queue entries found damaged and moved to queue/corrupt/",
                 "reason=\"" + std::string(queue::to_string(damage)) + "\"")
        .inc();
  };
  return options;
}

std::shared_ptr<asio::ssl::context> dlp_tls_context(const config::DlpConfig& config) {
  if (config.tls != config::TlsMode::required) return nullptr;
  auto context = smtp::make_verifying_client_tls_context(config.tls_ca_file);
  if (context) return *context;
  spdlog::error("gateway: gateway.dlp.tls_ca_file: cannot load {}; no DLP host can be verified",
                context.error());
  auto none = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  none->set_verify_mode(asio::ssl::verify_peer);
  return none;
}

queue::DlpPoolOptions dlp_pool_options(const config::DlpConfig& config,
                                       std::shared_ptr<asio::ssl::context> tls_context) {
  queue::DlpPoolOptions options;
  for (const auto& hp : config.hosts) options.hosts.push_back({hp.host, hp.port});
  options.connect_timeout = config.connect_timeout;
  options.session_timeout = config.session_timeout;
  options.tls = config.tls == config::TlsMode::required        ? smtp::TlsPolicy::required
                : config.tls == config::TlsMode::opportunistic ? smtp::TlsPolicy::opportunistic
                                                               : smtp::TlsPolicy::none;
  if (config.tls == config::TlsMode::required) {
    options.tls_context = std::move(tls_context);
    options.tls_server_name = config.tls_server_name;
  }
  options.bypass = config.bypass;
  return options;
}

queue::RetryPolicy retry_policy(const config::GatewayConfig& config) {
  queue::RetryPolicy p;
  p.schedule = config.retry.schedule;
  p.max_lifetime = config.retry.max_lifetime;
  p.delay_warning_after = config.delay_warning;
  return p;
}

Result<smtp::ServerOptions, std::string> server_options(const config::Config& config,
                                                        const std::string& hostname) {
  smtp::ServerOptions options;
  options.hostname = hostname;
  options.limits = server_limits(config.smtp);
  auto tls = server_tls(config.gateway->tls, "gateway");
  if (!tls) return fail(tls.error());
  options.tls = std::move(tls).value();
  options.require_tls = config.gateway->tls.require;
  return options;
}

}  // namespace cordon::roles::gateway
