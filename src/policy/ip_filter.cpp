// The monitor's IP filter (see ip_filter.hpp).
#include "policy/ip_filter.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "util/ascii.hpp"

namespace cordon::policy {
namespace {

bool inside(const IpMask& m, bool v6, const std::array<std::uint8_t, 16>& a) {
  std::array<std::uint8_t, 16> addr = a;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address.
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (v6 && std::memcmp(a.data(), kMapped, 12) == 0) {
    v6 = false;
    std::memmove(addr.data(), a.data() + 12, 4);
  }
  if (v6 != m.v6) return false;
  int bits = m.prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((addr[i] & mask) != (m.network[i] & mask)) return false;
  }
  return true;
}

std::string text_of(bool v6, const std::array<std::uint8_t, 16>& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof buf);
  return buf;
}

struct One {
  FilterAction action;
  bool explicit_mask;  // decided by a mask (not by default)
  std::string how;
};

One decide_address(const IpFilter& f, bool v6, const std::array<std::uint8_t, 16>& a) {
  for (std::size_t i = 0; i < f.masks.size(); ++i)
    if (inside(f.masks[i], v6, a))
      return {f.masks[i].action, true,
              std::string(to_string(f.masks[i].action)) + " (mask " + std::to_string(i + 1) +
                  " \"" + f.masks[i].text + "\")"};
  if (f.ignore_unmatched) return {FilterAction::ignore, false, "ignore (default *)"};
  return {FilterAction::inspect, false, "inspect (no mask matched)"};
}

}  // namespace

Result<IpFilter, IpFilterError> parse_ip_filter(std::string_view text) {
  IpFilter out;
  if (util::trim(text).empty()) return out;
  std::size_t index = 0, start = 0;
  for (;; ++index) {
    const auto comma = text.find(',', start);
    const std::string_view raw = util::trim(
        text.substr(start, comma == std::string_view::npos ? text.size() - start : comma - start));
    auto bad = [&](const std::string& why) {
      return IpFilterError{index, "ip_filter mask " + std::to_string(index + 1) + " \"" +
                                      std::string(raw) + "\": " + why};
    };
    const bool last = comma == std::string_view::npos;
    if (raw.empty()) return fail(bad("empty mask"));
    if (raw == "*") {
      if (!last) return fail(bad("a lone * must be the last mask"));
      out.ignore_unmatched = true;
      break;
    }
    IpMask m;
    m.text = std::string(raw);
    std::string_view body = raw;
    m.action = FilterAction::inspect;
    if (body.front() == '+' || body.front() == '-') {
      m.action = body.front() == '-' ? FilterAction::ignore : FilterAction::inspect;
      body.remove_prefix(1);
    }
    const auto slash = body.find('/');
    const std::string address(body.substr(0, slash));
    if (::inet_pton(AF_INET, address.c_str(), m.network.data()) == 1) {
      m.v6 = false;
    } else if (::inet_pton(AF_INET6, address.c_str(), m.network.data()) == 1) {
      m.v6 = true;
    } else {
      return fail(bad("not an IPv4 or IPv6 address or network"));
    }
    const int max = m.v6 ? 128 : 32;
    m.prefix = max;
    if (slash != std::string_view::npos) {
      const std::string_view p = body.substr(slash + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), m.prefix);
      if (ec != std::errc() || end != p.data() + p.size() || p.empty() || m.prefix < 0 ||
          m.prefix > max)
        return fail(bad("prefix length must be 0-" + std::to_string(max)));
    }
    out.masks.push_back(std::move(m));
    if (last) break;
    start = comma + 1;
  }
  return out;
}

IpDecision decide_connection(const IpFilter& filter, bool client_v6,
                             const std::array<std::uint8_t, 16>& client, bool server_v6,
                             const std::array<std::uint8_t, 16>& server) {
  if (filter.empty()) return {FilterAction::inspect, "ip inspect (empty filter)"};
  const One c = decide_address(filter, client_v6, client);
  const One s = decide_address(filter, server_v6, server);
  const std::string both = "client " + text_of(client_v6, client) + " " + c.how + ", server " +
                           text_of(server_v6, server) + " " + s.how;
  FilterAction action = FilterAction::ignore;
  if ((c.explicit_mask && c.action == FilterAction::ignore) ||
      (s.explicit_mask && s.action == FilterAction::ignore))
    action = FilterAction::ignore;
  else if (c.action == FilterAction::inspect || s.action == FilterAction::inspect)
    action = FilterAction::inspect;
  return {action, "ip " + std::string(to_string(action)) + ": " + both};
}

}  // namespace cordon::policy
