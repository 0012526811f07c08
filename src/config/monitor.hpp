// The `monitor:` section: what to capture and which messages to inspect.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/prevent.hpp"

namespace cordon::config {

struct MonitorConfig {
  std::string capture;  // interface name or a .pcap file
  std::vector<std::uint16_t> ports = {25, 587};
  FilterConfig filters;
};

}  // namespace cordon::config
