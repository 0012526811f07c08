// The one adapter from the `smtp:` section to the SMTP server's limits,
// used by every role with an SMTP listener, and the start-up check that
// the process may open as many descriptors as those limits allow.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "smtp/server.hpp"
#include "util/result.hpp"

namespace cordon::roles {

smtp::ServerLimits server_limits(const config::SmtpLimits& smtp);

// True for an address inside any of `networks` (IPv4-mapped IPv6 counts as
// IPv4); null when `networks` is empty.
std::function<bool(const asio::ip::address&)> address_matcher(std::vector<config::Cidr> networks);

// The STARTTLS context of a listener's tls_cert/tls_key (null when not
// configured); an error naming `section` when they do not load.
Result<std::shared_ptr<asio::ssl::context>, std::string> server_tls(
    const config::ServerTlsConfig& tls, std::string_view section);

// Raises RLIMIT_NOFILE for every SMTP listener the configuration starts
// (each session of prevent also holds its next-hop connection); an error
// when the hard limit is too low, so `cordon run` refuses to start instead
// of spinning on EMFILE under load.
Status<std::string> ensure_fd_limit(const config::Config& config);

}  // namespace cordon::roles
