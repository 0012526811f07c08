// Relay access decision (see relay_access.hpp).
#include "smtp/relay_access.hpp"

#include <algorithm>

#include "smtp/address.hpp"
#include "util/ascii.hpp"

namespace cordon::smtp {

RelayDecision relay_decision(const RelayRules& rules, std::string_view client_ip,
                             std::string_view recipient) {
  if (rules.trusted && rules.trusted(client_ip)) return RelayDecision::allowed;
  // RFC 5321 4.5.1: a bare "postmaster" must be accepted.
  if (util::iequals(recipient, "postmaster")) return RelayDecision::allowed;
  auto mailbox = parse_mailbox(recipient);
  if (!mailbox) return RelayDecision::malformed;
  std::string domain = util::to_lower(mailbox->domain);
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  const auto& local = rules.local_domains;
  if (std::find(local.begin(), local.end(), domain) == local.end()) return RelayDecision::not_local;
  if (has_routing(*mailbox)) return RelayDecision::routed;
  return RelayDecision::allowed;
}

}  // namespace cordon::smtp
