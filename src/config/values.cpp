// Parsers and printers for the scalar value types of the configuration:
// durations, sizes, host:port, CIDR networks, and the small enums. They
// return a message without position; the loader adds file:line:col.
#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include "config/config.hpp"

namespace cordon::config {
namespace {

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// Parses a whole string as an unsigned decimal number.
bool parse_unsigned(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return false;
  }
  return host.front() != '.' && host.front() != '-';
}

bool all_digits_and_dots(std::string_view s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  return true;
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = line > 0 ? file + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                   ": error: " + message
                             : file + ": error: " + message;
  for (const auto& other : more) out += "\n" + other.to_string();
  return out;
}

std::string HostPort::to_string() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::gateway:
      return "gateway";
    case Role::prevent:
      return "prevent";
    case Role::monitor:
      return "monitor";
    case Role::milter:
      return "milter";
    case Role::console:
      return "console";
  }
  return "?";
}

std::vector<Role> Config::roles() const {
  std::vector<Role> out;
  if (gateway) out.push_back(Role::gateway);
  if (prevent) out.push_back(Role::prevent);
  if (monitor) out.push_back(Role::monitor);
  if (milter) out.push_back(Role::milter);
  if (console) out.push_back(Role::console);
  return out;
}

std::vector<std::string> Config::warnings() const {
  std::vector<std::string> out;
  if ((prevent || monitor || milter) && policies.empty())
    out.push_back(std::string("no policies: ") +
                  (prevent  ? "prevent"
                   : milter ? "the milter"
                            : "monitor") +
                  " inspects messages for nothing, so no message is ever blocked, redirected, "
                  "modified or recorded as an incident for its content (only on_unscannable "
                  "applies); add policies:, or include_builtin_policies: true for the built-in "
                  "pack");
  return out;
}

Result<Duration, std::string> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::uint64_t n = 0;
  std::string_view unit = text.substr(digits);
  if (digits == 0 || !parse_unsigned(text.substr(0, digits), n))
    return fail("bad duration " + in_quotes(text) +
                ": expected a number and a unit, like 500ms, 5s, 1m, 24h or 2d");
  std::uint64_t ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m")
    ms_per_unit = 60'000;
  else if (unit == "h")
    ms_per_unit = 3'600'000;
  else if (unit == "d")
    ms_per_unit = 86'400'000;
  else if (unit.empty())
    return fail("bad duration " + in_quotes(text) + ": missing unit (ms, s, m, h or d)");
  else
    return fail("bad duration " + in_quotes(text) + ": unknown unit " + in_quotes(unit) +
                " (use ms, s, m, h or d)");
  // Ten years is more than any timeout or lifetime can sensibly be.
  if (n > 10ull * 365 * 86'400'000 / ms_per_unit)
    return fail("duration " + in_quotes(text) + " is too long");
  return Duration(static_cast<Duration::rep>(n * ms_per_unit));
}

Result<std::size_t, std::string> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::uint64_t n = 0;
  if (digits == 0 || !parse_unsigned(text.substr(0, digits), n))
    return fail("bad size " + in_quotes(text) +
                ": expected a number with an optional unit, like 512, 64KB or 10MB");
  std::string unit;
  for (char c : text.substr(digits))
    if (c != ' ') unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::uint64_t mult = 0;
  // Sizes are binary (1KB = 1024 bytes), as mail size limits usually are.
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB")
    mult = 1ull << 10;
  else if (unit == "M" || unit == "MB" || unit == "MIB")
    mult = 1ull << 20;
  else if (unit == "G" || unit == "GB" || unit == "GIB")
    mult = 1ull << 30;
  else
    return fail("bad size " + in_quotes(text) + ": unknown unit (use B, KB, MB or GB)");
  if (n > (1ull << 50) / mult) return fail("size " + in_quotes(text) + " is too large");
  return static_cast<std::size_t>(n * mult);
}

Result<HostPort, std::string> parse_host_port(std::string_view text, bool allow_port_zero) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("bad address " + in_quotes(text) + ": expected [IPv6]:port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
      return fail("bad address " + in_quotes(text) + ": " + in_quotes(host) +
                  " is not an IPv6 address");
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return fail("bad address " + in_quotes(text) + ": expected host:port, like 127.0.0.1:25");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail("bad address " + in_quotes(text) +
                  ": write IPv6 addresses in brackets, like [::1]:25");
    if (all_digits_and_dots(host)) {
      in_addr a4{};
      if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1)
        return fail("bad address " + in_quotes(text) + ": " + in_quotes(host) +
                    " is not an IPv4 address");
    } else if (!valid_hostname(host)) {
      return fail("bad address " + in_quotes(text) + ": " + in_quotes(host) +
                  " is not a valid host name");
    }
  }
  std::uint64_t p = 0;
  if (!parse_unsigned(port, p) || p > 65535 || (p == 0 && !allow_port_zero))
    return fail("bad address " + in_quotes(text) + ": port must be a number from 1 to 65535");
  return HostPort{std::string(host), static_cast<std::uint16_t>(p)};
}

Result<Cidr, std::string> parse_cidr(std::string_view text) {
  Cidr c;
  c.text = std::string(text);
  auto slash = text.find('/');
  std::string addr(text.substr(0, slash));
  c.ipv6 = addr.find(':') != std::string::npos;
  int max_prefix = c.ipv6 ? 128 : 32;
  if (inet_pton(c.ipv6 ? AF_INET6 : AF_INET, addr.c_str(), c.bytes.data()) != 1)
    return fail("bad network " + in_quotes(text) + ": " + in_quotes(addr) +
                " is not an IP address");
  c.prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::uint64_t p = 0;
    if (!parse_unsigned(text.substr(slash + 1), p) || p > static_cast<std::uint64_t>(max_prefix))
      return fail("bad network " + in_quotes(text) + ": prefix length must be 0 to " +
                  std::to_string(max_prefix));
    c.prefix = static_cast<int>(p);
  }
  // Keep only the network part so contains() can compare bytes directly.
  for (int bit = c.prefix; bit < max_prefix; ++bit)
    c.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return c;
}

bool Cidr::contains(std::string_view address) const {
  std::array<std::uint8_t, 16> a{};
  std::string s(address);
  bool v6 = s.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), a.data()) != 1) return false;
  if (v6 && !ipv6) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is that IPv4 address.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!std::equal(a.begin(), a.begin() + 12, kMapped)) return false;
    std::copy(a.begin() + 12, a.end(), a.begin());
    v6 = false;
  }
  if (v6 != ipv6) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((a[bit / 8] & mask) != (bytes[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace cordon::config
