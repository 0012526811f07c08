// config::SmtpLimits -> smtp::ServerLimits, a listener's STARTTLS context,
// and the descriptor limit check.
#include "roles/smtp_limits.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cordon::roles {

smtp::ServerLimits server_limits(const config::SmtpLimits& smtp) {
  smtp::ServerLimits limits;
  limits.max_data_line = smtp.max_line_length;
  limits.max_message_size = smtp.max_message_size;
  limits.max_recipients = smtp.max_recipients;
  limits.max_errors = smtp.max_errors;
  limits.max_connections = smtp.max_connections;
  limits.max_connections_per_client = smtp.max_connections_per_client;
  limits.max_connection_rate_per_client = smtp.max_connection_rate_per_client;
  limits.max_session_time = smtp.max_session_time;
  limits.max_data_time = smtp.max_data_time;
  limits.idle_timeout = smtp.idle_timeout;
  // command_timeout bounds each wait for message data after DATA; the wait
  // for the next command is idle_timeout.
  limits.data_timeout = smtp.command_timeout;
  limits.client_limit_exempt = address_matcher(smtp.client_limit_exceptions);
  return limits;
}

std::function<bool(const asio::ip::address&)> address_matcher(std::vector<config::Cidr> networks) {
  if (networks.empty()) return nullptr;
  return [networks = std::move(networks)](const asio::ip::address& address) {
    const auto text = smtp::unmapped(address).to_string();
    return std::any_of(networks.begin(), networks.end(),
                       [&](const config::Cidr& n) { return n.contains(text); });
  };
}

Result<std::shared_ptr<asio::ssl::context>, std::string> server_tls(
    const config::ServerTlsConfig& tls, std::string_view section) {
  if (!tls.enabled()) return std::shared_ptr<asio::ssl::context>();
  auto context = smtp::make_server_tls_context(tls.cert, tls.key);
  if (!context) return fail(std::string(section) + ".tls_cert/tls_key: " + context.error());
  return std::move(context).value();
}

Status<std::string> ensure_fd_limit(const config::Config& config) {
  std::uint64_t sessions = 0, fds_per_session = 1;
  if (config.gateway) sessions += 2 * config.smtp.max_connections;  // clients + resubmission
  if (config.prevent) {
    sessions += config.smtp.max_connections;
    fds_per_session = 2;  // the upstream session and its next-hop connection
  }
  if (sessions == 0) return Ok{};
  auto wanted = smtp::fds_needed(sessions, fds_per_session);
  auto limit = smtp::raise_fd_limit(wanted);
  if (!limit.error.empty()) spdlog::warn("file descriptor limit: {}", limit.error);
  if (!limit.sufficient)
    return fail("smtp.max_connections " + std::to_string(config.smtp.max_connections) + " needs " +
                std::to_string(wanted) + " file descriptors, but the hard limit is " +
                std::to_string(limit.hard) +
                " (raise it with `ulimit -Hn` or LimitNOFILE=, or lower max_connections)");
  if (limit.soft != limit.soft_before)
    spdlog::info("file descriptor limit raised from {} to {}", limit.soft_before, limit.soft);
  return Ok{};
}

}  // namespace cordon::roles
