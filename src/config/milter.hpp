// The `milter:` section: where the milter listens, its protocol limits,
// and the block reply and L7 filters it applies.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "config/common.hpp"
#include "config/prevent.hpp"

namespace cordon::config {

struct MilterConfig {
  // TCP (host:port) or a unix socket (unix:/path, `path` set).
  HostPort listen{"127.0.0.1", 8891};
  std::string unix_path;
  // Longest milter frame accepted (command byte and data); a longer one
  // closes the connection and the MTA applies its milter_default_action.
  std::size_t max_frame_bytes = 1u << 20;
  // Largest message inspected; a bigger one is refused with 552 5.3.4.
  std::size_t max_message_size = 50u << 20;
  Duration idle_timeout = std::chrono::minutes(30);
  Duration progress_interval = std::chrono::seconds(10);
  BlockReplyConfig block_reply;
  FilterConfig filters;
};

}  // namespace cordon::config
