// The incident of a violated verdict, and the header envelope of offline
// scans (see detail/incident.hpp).
#include "inspect/detail/incident.hpp"

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

// Bytes that end an address: white space and the header punctuation
// around addr-specs.
bool ends_address(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case '<':
    case '>':
    case ',':
    case ';':
    case ':':
    case '"':
    case '(':
    case ')':
    case '[':
    case ']':
      return true;
    default:
      return false;
  }
}

}  // namespace

// Addresses in a header value: addr-specs, with or without angle brackets.
// What the regex [^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+ finds, without
// std::regex (a hundredth of a scan): the first part may hold '@' too, so a
// run of address bytes is one address, whole, when it has an '@' with a
// byte before it and one after it.
std::vector<std::string> addresses_in(std::string_view value) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < value.size()) {
    while (pos < value.size() && ends_address(value[pos])) ++pos;
    const std::size_t start = pos;
    while (pos < value.size() && !ends_address(value[pos])) ++pos;
    const std::string_view run = value.substr(start, pos - start);
    if (run.size() >= 3 && run.substr(1, run.size() - 2).find('@') != std::string_view::npos)
      out.emplace_back(run);
  }
  return out;
}

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
  incident.headers = verdict.headers;
  incident.preview = verdict.preview;
  for (const auto& fired : verdict.policies) {
    incidents::PolicyHit hit{fired.name, to_incident(fired.severity), {}};
    for (const auto& m : fired.matches)
      hit.matches.push_back(incidents::Match{m.rule, m.component, m.count, m.samples, m.contexts});
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
