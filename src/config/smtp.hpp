// The `smtp:` section: limits of every SMTP listener (gateway and prevent).
#pragma once

#include <cstddef>

#include "config/common.hpp"

namespace cordon::config {

// SMTP server limits shared by the gateway and prevent listeners.
struct SmtpLimits {
  std::size_t max_line_length = 1000;  // octets including CRLF (RFC 5321 4.5.3.1.6)
  std::size_t max_message_size = 50u << 20;
  std::size_t max_recipients = 1000;
  std::size_t max_errors = 10;  // protocol errors before the session is closed
  Duration command_timeout = std::chrono::minutes(5);
  Duration idle_timeout = std::chrono::minutes(5);
  std::size_t max_connections = 100;
};

}  // namespace cordon::config
