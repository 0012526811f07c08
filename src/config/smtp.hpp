// The `smtp:` section: limits of every SMTP listener (gateway and prevent).
#pragma once

#include <cstddef>
#include <vector>

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
  // Per client address, like Postfix's anvil (0 switches each off): at most
  // this many concurrent sessions (over: 421 4.7.0 and close), and at most
  // this many connections a minute (over: 421 4.7.0 and close).
  std::size_t max_connections_per_client = 20;
  std::size_t max_connection_rate_per_client = 600;
  // Networks exempt from the two per-client limits (not from
  // max_connections). Absent from the file: loopback (127.0.0.0/8, ::1), so
  // a gateway and a prevent on one host never throttle each other (Postfix
  // exempts $mynetworks the same way); `[]` exempts nobody. A prevent behind
  // gateways on other hosts lists their addresses here.
  std::vector<Cidr> client_limit_exceptions;
  // Wall-clock bounds no trickle of bytes extends (421 4.4.2 and close): the
  // whole session, and DATA from 354 to the final dot (at most the session's).
  Duration max_session_time = std::chrono::minutes(30);
  Duration max_data_time = std::chrono::minutes(10);
};

}  // namespace cordon::config
