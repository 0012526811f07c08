// Printers of the policy model's enums.
#include "policy/model.hpp"

namespace cordon::policy {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::low:
      return "low";
    case Severity::medium:
      return "medium";
    case Severity::high:
      return "high";
  }
  return "?";
}

std::string_view to_string(UnscannableAction action) {
  switch (action) {
    case UnscannableAction::block:
      return "block";
    case UnscannableAction::flag:
      return "flag";
    case UnscannableAction::pass:
      return "pass";
  }
  return "?";
}

const EdmProfile* EdmSettings::find(std::string_view name) const {
  for (const auto& p : profiles)
    if (p.name == name) return &p;
  return nullptr;
}

const IdmProfile* IdmSettings::find(std::string_view name) const {
  for (const auto& p : profiles)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace cordon::policy
