// The `monitor:` section: what to capture, which connections and messages
// to inspect, and the bounds on what the capture may hold in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/common.hpp"
#include "config/prevent.hpp"

namespace cordon::config {

struct MonitorConfig {
  std::string capture;  // interface name or a .pcap/.pcapng file
  std::vector<std::uint16_t> ports = {25, 587};
  // CIDR masks on client and server addresses (policy/ip_filter.hpp).
  std::string ip_filter;
  FilterConfig filters;
  std::string bpf_filter;  // live capture filter; empty: built from the ports
  // Memory bounds of the TCP reassembly and the SMTP reading.
  std::size_t max_connections = 10000;
  std::size_t max_buffered_per_connection = 1 << 20;  // out-of-order bytes, each direction
  std::size_t max_buffered_total = 256u << 20;
  Duration idle_timeout = std::chrono::minutes(5);  // on capture time
  std::size_t max_message_bytes = 64u << 20;
  std::size_t max_line_bytes = 4096;
};

}  // namespace cordon::config
