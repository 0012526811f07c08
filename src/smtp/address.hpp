// RFC 5321 mailbox parsing for relay decisions: splits a path into its
// source route, local part and domain (quoted local parts and quoted-pairs
// decoded), and tells whether the local part carries routing that a
// downstream MTA would honour (the percent hack, bang paths, an "@" inside
// a quoted local part, source routes). A gateway that relays only for its
// own domains must refuse such addresses, as Postfix's
// reject_unauth_destination does with allow_untrusted_routing = no.
// Pure functions; the command parser validates paths with parse_mailbox().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace cordon::smtp {

struct Mailbox {
  // The local part as the client wrote it (quotes and backslashes kept), and
  // decoded ("\"john doe\"" -> "john doe"; equal to `written` when unquoted).
  std::string local_part_written;
  std::string local_part;
  bool quoted = false;  // the local part is a quoted-string
  // As written: a domain name or an address literal ("[192.0.2.1]").
  std::string domain;
  // Hops of an obsolete source route "@a,@b:", without the "@".
  std::vector<std::string> source_route;
};

enum class AddressError {
  empty,              // nothing to parse
  control_character,  // a C0 control character or DEL anywhere in the path
  bad_source_route,   // "@a,@b:" malformed
  bad_local_part,     // neither a dot-string nor a quoted-string
  local_part_too_long,
  missing_domain,  // no "@domain" after the local part
  bad_domain,      // not a domain name or a valid address literal
  too_long,        // path over 256 octets (RFC 5321 4.5.3.1.3)
};
std::string_view to_string(AddressError error);

// Parses "[<][@a,@b:]local@domain[>]". `allow_utf8` admits RFC 6531 UTF-8 in
// the local part and the domain.
Result<Mailbox, AddressError> parse_mailbox(std::string_view path, bool allow_utf8 = true);

// Routing a downstream MTA would act on, as bits.
enum RoutingFlag : unsigned {
  kRoutingNone = 0,
  kRoutingPercent = 1u << 0,      // user%other.example@us.example
  kRoutingBang = 1u << 1,         // host!user@us.example or user!host@us.example
  kRoutingAtSign = 1u << 2,       // "user@other.example"@us.example
  kRoutingSourceRoute = 1u << 3,  // @relay.example:user@us.example
};

// The routing bits of a parsed mailbox (looks at the decoded local part, so
// quoting does not hide a "%" or "!").
unsigned routing_of(const Mailbox& mailbox);

// True when the local part or a source route carries routing.
inline bool has_routing(const Mailbox& mailbox) {
  return routing_of(mailbox) != kRoutingNone;
}

// Domain name syntax of RFC 5321 4.1.2 (labels of letters, digits and
// hyphens, at most 255 octets); `allow_utf8` admits U-labels.
bool is_valid_domain(std::string_view domain, bool allow_utf8);

}  // namespace cordon::smtp
