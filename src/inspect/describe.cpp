// What the roles say about an inspection: the refusal they answer when it
// reached no verdict, and the one line they log (see inspect.hpp).
#include <algorithm>

#include "inspect/inspect.hpp"

namespace cordon::inspect {

std::optional<smtp::Reply> refusal(const Inspection& result) {
  switch (result.disposition) {
    case Disposition::unparsable: {
      // The detail is the parser's; it must not split or bloat the reply.
      std::string why = result.detail.substr(0, 200);
      std::replace_if(
          why.begin(), why.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
      return smtp::Reply::make(554, "5.6.0", "Message cannot be inspected: " + why);
    }
    case Disposition::failed:
      return smtp::Reply::make(451, "4.3.0", "Inspection failed, try again later");
    case Disposition::scan_failed:
      return smtp::Reply::make(451, "4.3.0", "Content scan failed, try again later");
    case Disposition::loop:
    case Disposition::ignored:
    case Disposition::inspected:
      break;
  }
  return std::nullopt;
}

std::string describe(const Inspection& result) {
  switch (result.disposition) {
    case Disposition::loop:
      return "already inspected by this deployment";
    case Disposition::ignored:
      return "ignored by filters (" + result.detail + ")";
    case Disposition::unparsable:
      return "not inspectable: " + result.detail;
    case Disposition::failed:
      return "inspection failed: " + result.detail;
    case Disposition::scan_failed:
      return "scan failed: " + result.detail;
    case Disposition::inspected:
      break;
  }
  std::string what(policy::to_string(result.verdict.action));
  if (result.verdict.violated()) {
    std::string names;
    for (const auto& p : result.verdict.policies) names += (names.empty() ? "" : ", ") + p.name;
    what += " policies=[" + names + "]";
  }
  if (result.incident)
    what += " incident=" +
            (result.incident->reference.empty() ? std::to_string(result.incident->id)
                                                : result.incident->reference + " (outbox)") +
            (result.incident->repeated ? " repeat=" + std::to_string(result.incident->repeat_count)
                                       : "");
  if (!result.detail.empty()) what += " (" + result.detail + ")";
  return what;
}

}  // namespace cordon::inspect
