// The incident of a violated verdict, and the header envelope of offline
// scans (see detail/incident.hpp).
#include "inspect/detail/incident.hpp"

#include <regex>

#include "util/ascii.hpp"

namespace cordon::inspect::detail {
namespace {

incidents::Severity to_incident(policy::Severity severity) {
  switch (severity) {
    case policy::Severity::info:
      return incidents::Severity::info;
    case policy::Severity::low:
      return incidents::Severity::low;
    case policy::Severity::medium:
      return incidents::Severity::medium;
    case policy::Severity::high:
      return incidents::Severity::high;
  }
  return incidents::Severity::high;
}

incidents::Action to_incident(policy::Action action) {
  switch (action) {
    case policy::Action::pass:
      return incidents::Action::pass;
    case policy::Action::modify:
      return incidents::Action::modify;
    case policy::Action::redirect:
      return incidents::Action::redirect;
    case policy::Action::hold:
      return incidents::Action::hold;
    case policy::Action::block:
      return incidents::Action::block;
  }
  return incidents::Action::block;
}

// Addresses in a header value: addr-specs, with or without angle brackets.
std::vector<std::string> addresses_in(const std::string& value) {
  static const std::regex addr(R"([^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+)");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(value.begin(), value.end(), addr);
       it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}

}  // namespace

incidents::NewIncident make_incident(const policy::Verdict& verdict,
                                     const policy::Envelope& envelope, std::string subject,
                                     std::string message_id, std::string content_hash) {
  incidents::NewIncident incident;
  incident.time = incidents::Clock::now();
  incident.sender = envelope.sender;
  incident.recipients = envelope.recipients;
  incident.subject = std::move(subject);
  incident.message_id = std::move(message_id);
  incident.content_hash = std::move(content_hash);
  incident.client_address = envelope.client_address;
  incident.client_helo = envelope.client_helo;
  incident.action = to_incident(verdict.action);
  for (const auto& fired : verdict.policies) {
    incidents::PolicyHit hit{fired.name, to_incident(fired.severity), {}};
    for (const auto& m : fired.matches)
      hit.matches.push_back(incidents::Match{m.rule, m.component, m.count, m.samples});
    incident.policies.push_back(std::move(hit));
  }
  return incident;
}

policy::Envelope envelope_from_headers(const mime::Message& message) {
  policy::Envelope env;
  for (const auto& h : message.headers) {
    if (util::iequals(h.name, "from") && env.sender.empty()) {
      auto a = addresses_in(h.value);
      if (!a.empty()) env.sender = a.front();
    } else if (util::iequals(h.name, "to") || util::iequals(h.name, "cc") ||
               util::iequals(h.name, "bcc")) {
      for (auto& a : addresses_in(h.value)) env.recipients.push_back(std::move(a));
    }
  }
  return env;
}

}  // namespace cordon::inspect::detail
