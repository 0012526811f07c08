// The `prevent:` section: listener, mode, next hop, block reply limits and
// L7 filters.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/common.hpp"

namespace cordon::config {

struct BlockReplyConfig {
  int code = 550;
  std::string enhanced = "5.7.0";
  std::size_t max_reply_bytes = 1000;
  std::size_t max_line_bytes = 512;  // including CRLF
  SourceMark mark;                   // of the block_reply section, for later checks
};

// L7 filters: comma-separated mask lists (see policy/filter.hpp).
struct FilterConfig {
  std::string sender;
  std::string recipient;
};

enum class PreventMode { reflect, forward };

struct PreventConfig {
  HostPort listen{"127.0.0.1", 10025};
  PreventMode mode = PreventMode::reflect;
  HostPort next_hop{"127.0.0.1", 10026};  // forward mode downstream; reflect: the gateway
  BlockReplyConfig block_reply;
  FilterConfig filters;
  // Who may connect: the gateways (and other MTAs) that hand prevent mail.
  // Anyone else gets 554 5.7.1 at the greeting, so a prevent host reachable
  // from a LAN is never an open relay. Absent: loopback only.
  std::vector<Cidr> client_networks;
  // STARTTLS offered to the gateways (tls_cert, tls_key, require_tls).
  ServerTlsConfig tls{};
  // Clients whose XFORWARD (Postfix's content_filter hand-off) is believed:
  // only they are offered it. Empty: nobody.
  std::vector<Cidr> xforward_networks{};
};

}  // namespace cordon::config
