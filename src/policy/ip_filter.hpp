// The monitor's IP filter: which captured connections are inspected, by the
// client's and the server's address. A comma-separated list of CIDR masks
// read left to right with the L7 filters' rules (filter.hpp):
//   `+10.0.0.0/8` or `10.0.0.0/8`   an address inside it is inspected
//   `-10.9.9.9/32`                  an address inside it is ignored
//   `*` (lone, last)                an address no mask matched is ignored
// A bare address is a /32 (IPv4) or /128 (IPv6); IPv4-mapped IPv6
// addresses count as IPv4. For a connection, each address is decided by
// its first matching mask, then: an address ignored by a `-` mask ignores
// the connection; otherwise one inspected address (by a `+` mask, or by no
// mask matching without a final `*`) inspects it; both ignored by the
// final `*` ignore it. An empty filter inspects everything.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/filter.hpp"
#include "util/result.hpp"

namespace cordon::policy {

struct IpMask {
  FilterAction action;
  bool v6 = false;
  std::array<std::uint8_t, 16> network{};
  int prefix = 0;
  std::string text;  // as written, sign included
};

struct IpFilter {
  std::vector<IpMask> masks;
  bool ignore_unmatched = false;
  bool empty() const { return masks.empty() && !ignore_unmatched; }
};

struct IpFilterError {
  std::size_t mask_index;  // 0-based
  std::string message;     // names the mask (1-based) and what is wrong
};

Result<IpFilter, IpFilterError> parse_ip_filter(std::string_view text);

struct IpDecision {
  FilterAction action;
  std::string explanation;  // e.g. "client 10.9.9.9 ignore (mask 2 \"-10.9.9.9/32\")"
};

// `client` and `server`: the addresses as 4 (IPv4) or 16 (IPv6) bytes.
IpDecision decide_connection(const IpFilter& filter, bool client_v6,
                             const std::array<std::uint8_t, 16>& client, bool server_v6,
                             const std::array<std::uint8_t, 16>& server);

}  // namespace cordon::policy
