// The `gateway:` section: listeners, relay rules, the DLP pool, delivery,
// retry and queue limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/common.hpp"

namespace cordon::config {

enum class TlsMode { none, opportunistic, required };

struct DlpConfig {
  std::vector<HostPort> hosts;  // tried in order
  Duration connect_timeout = std::chrono::seconds(5);
  Duration session_timeout = std::chrono::seconds(30);
  TlsMode tls = TlsMode::none;
  // With tls: required the DLP host's certificate is verified against these
  // CAs (empty: the system store) and the name below (empty: the host as
  // written in hosts).
  std::string tls_ca_file;
  std::string tls_server_name;
  bool bypass = true;  // false: fail closed (stay queued)
};

struct RetryConfig {
  std::vector<Duration> schedule = {std::chrono::minutes(1), std::chrono::minutes(5),
                                    std::chrono::minutes(15), std::chrono::hours(1)};
  Duration max_lifetime = std::chrono::hours(24);
};

struct GatewayConfig {
  HostPort listen{"127.0.0.1", 2525};
  HostPort resubmit_listen{"127.0.0.1", 10026};
  std::vector<Cidr> relay_networks;  // default 127.0.0.0/8 and ::1/128
  DlpConfig dlp;
  std::optional<HostPort> smarthost;  // deliver: host:port; empty = deliver: maildir
  RetryConfig retry;
  // Domains the gateway accepts mail for from clients outside
  // relay_networks (lower case); empty: outside clients may send nothing.
  std::vector<std::string> local_domains;
  // The listener answers 452 4.3.1 when the queue's file system would keep
  // less than this free.
  std::uint64_t min_free = 64u << 20;
  // One delay DSN after a message has waited this long; zero = never.
  Duration delay_warning = std::chrono::hours(4);
  // Messages in flight at once per destination (each DLP host, the next hop).
  std::size_t concurrency = 20;
  // Greeting, Received and DSN Reporting-MTA name; empty = the system host name.
  std::string hostname;
  // STARTTLS on both listeners (tls_cert, tls_key, require_tls).
  ServerTlsConfig tls{};
};

}  // namespace cordon::config
