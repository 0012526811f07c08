// Value types every configuration section uses: where a value was written
// (for file:line:col errors), durations, host:port, CIDR networks, and the
// parsers of those scalars. Knows nothing of mail.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.hpp"
#include "util/result.hpp"

namespace cordon::config {

using Duration = std::chrono::milliseconds;

// Where a value was written: 1-based line and column (0 when unknown, e.g.
// for defaults that were not written in the file).
struct SourceMark {
  int line = 0;
  int col = 0;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when the error is not tied to a position
  int col = 0;
  std::string message;
  // The configuration's further errors, in file order: one run of the
  // loader reports every independent error it finds (see docs/configuration.md).
  std::vector<ConfigError> more = {};

  // "file:line:col: error: message" (or "file: error: message"), one line
  // per error, this one first.
  std::string to_string() const;
};

// host:port. IPv6 literals are written in brackets: "[::1]:25".
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

// An IPv4 or IPv6 network, e.g. 127.0.0.0/8 or ::1/128 (a bare address is a
// single-host network).
struct Cidr {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> bytes{};  // network address, first 4 used for IPv4
  int prefix = 0;
  std::string text;  // as written

  // True if `address` (textual IPv4/IPv6; IPv4-mapped IPv6 counts as IPv4)
  // lies inside this network. An unparsable address is never inside.
  bool contains(std::string_view address) const;
};

// STARTTLS offered by an SMTP listener (gateway and prevent): PEM files,
// both set or neither; require: MAIL is refused (530 5.7.0) before TLS.
struct ServerTlsConfig {
  std::string cert;
  std::string key;
  bool require = false;
  SourceMark mark{1, 1};  // of tls_cert, for check-config
  bool enabled() const { return !cert.empty(); }
};

// Value parsers used by the loader, exposed for other components and tests.
// Each returns an error message (without position) on failure.
Result<Duration, std::string> parse_duration(
    std::string_view text);  // "500ms" "5s" "1m" "24h" "2d"
// The shortest exact text of a duration: "0s", "500ms", "5s", "90m", "2d".
using util::format_duration;
Result<std::size_t, std::string> parse_size(std::string_view text);  // "512", "64KB", "10MB", "1GB"
Result<HostPort, std::string> parse_host_port(std::string_view text, bool allow_port_zero = false);
Result<Cidr, std::string> parse_cidr(std::string_view text);

}  // namespace cordon::config
