// Relay access: may this client send to this recipient? A client inside the
// trusted networks may send anywhere; any other client only to the local
// domains, and never with routing in the local part ("user%ext@local",
// "ext!user@local", "\"user@ext\"@local", "@ext:user@local"), which a
// downstream MTA with default settings would deliver to the other domain
// (Postfix's reject_unauth_destination refuses the same forms).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::smtp {

struct RelayRules {
  // True for a client address (textual) inside the trusted networks.
  std::function<bool(std::string_view client_ip)> trusted;
  std::vector<std::string> local_domains;  // lower case
};

enum class RelayDecision {
  allowed,
  not_local,  // the domain is not one of ours
  routed,     // ours, but the local part routes elsewhere
  malformed,  // the address does not parse
};

RelayDecision relay_decision(const RelayRules& rules, std::string_view client_ip,
                             std::string_view recipient);

}  // namespace cordon::smtp
