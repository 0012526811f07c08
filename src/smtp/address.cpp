// Mailbox parsing (RFC 5321 4.1.2 Path, Mailbox, Local-part, Domain and
// address-literal; RFC 6531 UTF-8) and the routing check used for relay
// decisions. The command parser validates MAIL and RCPT paths here, so the
// two can never disagree about what an address is.
#include "smtp/address.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "util/ascii.hpp"

namespace cordon::smtp {
namespace {

constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;    // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxPath = 256;      // RFC 5321 4.5.3.1.3, brackets included

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_utf8(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}
bool is_control(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 32 || u == 127;
}

// RFC 5322 atext.
bool is_atext(char c) {
  return is_alpha(c) || is_digit(c) || (c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c));
}

bool valid_dot_string(std::string_view s, bool utf8) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!is_atext(c) && !(utf8 && is_utf8(c))) {
      return false;
    }
  }
  return true;
}

// Quoted-string with its quotes (qtextSMTP / quoted-pairSMTP); on success
// `decoded` holds the content without quotes and backslashes.
bool decode_quoted_string(std::string_view s, bool utf8, std::string& decoded) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  decoded.clear();
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (i + 2 >= s.size()) return false;
      unsigned char next = static_cast<unsigned char>(s[++i]);
      if (next < 32 || next > 126) return false;
      decoded.push_back(static_cast<char>(next));
    } else if (c == '"') {
      return false;
    } else if ((c >= 32 && c <= 126) || (utf8 && c >= 0x80)) {
      decoded.push_back(static_cast<char>(c));
    } else {
      return false;
    }
  }
  return true;
}

bool valid_address_literal(std::string_view lit) {
  if (lit.size() < 3 || lit.front() != '[' || lit.back() != ']') return false;
  std::string inner(lit.substr(1, lit.size() - 2));
  unsigned char buf[16];
  if (util::istarts_with(inner, "IPv6:")) return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
  if (std::size_t colon = inner.find(':'); colon != std::string::npos) {
    // General-address-literal: Standardized-tag ":" 1*dcontent.
    std::string_view tag(inner.data(), colon);
    if (tag.empty() || !is_valid_domain(tag, false) || colon + 1 >= inner.size()) return false;
    for (std::size_t i = colon + 1; i < inner.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(inner[i]);
      if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  return inet_pton(AF_INET, inner.c_str(), buf) == 1;
}

// "@a,@b" (without the colon) into hops.
bool parse_source_route(std::string_view route, std::vector<std::string>& hops) {
  std::size_t start = 0;
  while (true) {
    std::size_t comma = route.find(',', start);
    std::string_view hop = route.substr(start, comma == route.npos ? route.npos : comma - start);
    if (hop.size() < 2 || hop[0] != '@' || !is_valid_domain(hop.substr(1), false)) return false;
    hops.emplace_back(hop.substr(1));
    if (comma == route.npos) return true;
    start = comma + 1;
  }
}

// The end of the local part: after the closing quote of a quoted-string,
// else at the first "@" (an unquoted local part cannot contain one).
std::size_t local_part_end(std::string_view s) {
  if (s.empty() || s.front() != '"') return s.find('@');
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view to_string(AddressError error) {
  switch (error) {
    case AddressError::empty:
      return "empty address";
    case AddressError::control_character:
      return "control character in address";
    case AddressError::bad_source_route:
      return "bad source route";
    case AddressError::bad_local_part:
      return "bad local part";
    case AddressError::local_part_too_long:
      return "local part too long";
    case AddressError::missing_domain:
      return "no domain";
    case AddressError::bad_domain:
      return "bad domain";
    case AddressError::too_long:
      return "address too long";
  }
  return "?";
}

bool is_valid_domain(std::string_view d, bool utf8) {
  if (d.empty() || d.size() > kMaxDomain) return false;
  auto let_dig = [&](char c) { return is_alpha(c) || is_digit(c) || (utf8 && is_utf8(c)); };
  std::size_t start = 0;
  while (true) {
    std::size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!let_dig(label.front()) || !let_dig(label.back())) return false;
    for (char c : label)
      if (!let_dig(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

Result<Mailbox, AddressError> parse_mailbox(std::string_view path, bool allow_utf8) {
  for (char c : path)
    if (is_control(c)) return fail(AddressError::control_character);
  if (!path.empty() && path.front() == '<') {
    if (path.size() < 2 || path.back() != '>') return fail(AddressError::bad_local_part);
    path = path.substr(1, path.size() - 2);
  }
  if (path.empty()) return fail(AddressError::empty);
  if (path.size() + 2 > kMaxPath) return fail(AddressError::too_long);

  Mailbox out;
  if (path.front() == '@') {
    std::size_t colon = path.find(':');
    if (colon == std::string_view::npos ||
        !parse_source_route(path.substr(0, colon), out.source_route))
      return fail(AddressError::bad_source_route);
    path.remove_prefix(colon + 1);
  }

  std::size_t end = local_part_end(path);
  if (end == std::string_view::npos || end >= path.size() || path[end] != '@')
    return fail(end == 0 ? AddressError::bad_local_part : AddressError::missing_domain);
  std::string_view local = path.substr(0, end);
  std::string_view domain = path.substr(end + 1);
  if (local.empty()) return fail(AddressError::bad_local_part);
  if (local.size() > kMaxLocalPart) return fail(AddressError::local_part_too_long);
  out.quoted = local.front() == '"';
  if (out.quoted) {
    if (!decode_quoted_string(local, allow_utf8, out.local_part))
      return fail(AddressError::bad_local_part);
  } else {
    if (!valid_dot_string(local, allow_utf8)) return fail(AddressError::bad_local_part);
    out.local_part = std::string(local);
  }
  out.local_part_written = std::string(local);
  const bool domain_ok = !domain.empty() && domain.front() == '['
                             ? valid_address_literal(domain)
                             : is_valid_domain(domain, allow_utf8);
  if (!domain_ok) return fail(AddressError::bad_domain);
  out.domain = std::string(domain);
  return out;
}

unsigned routing_of(const Mailbox& mailbox) {
  unsigned flags = kRoutingNone;
  if (mailbox.local_part.find('%') != std::string::npos) flags |= kRoutingPercent;
  if (mailbox.local_part.find('!') != std::string::npos) flags |= kRoutingBang;
  if (mailbox.local_part.find('@') != std::string::npos) flags |= kRoutingAtSign;
  if (!mailbox.source_route.empty()) flags |= kRoutingSourceRoute;
  return flags;
}

}  // namespace cordon::smtp
