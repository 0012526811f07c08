// The one-line account of an inspection that the roles log (see inspect.hpp).
#include "inspect/inspect.hpp"

namespace cordon::inspect {

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
