// Counting inspections for the mail-path roles (see metrics.hpp).
#include "inspect/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cordon::inspect {

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::already_inspected:
      return "already_inspected";
    case Outcome::ignored:
      return "ignored";
    case Outcome::refused:
      return "refused";
    case Outcome::deferred:
      return "deferred";
    case Outcome::blocked:
      return "blocked";
    case Outcome::redirected:
      return "redirected";
    case Outcome::modified:
      return "modified";
    case Outcome::held:
      return "held";
    case Outcome::passed:
      return "passed";
  }
  return "deferred";
}

namespace {

util::Counter& result_counter(util::Metrics& registry, std::string_view role, std::string_view help,
                              std::string_view result) {
  return registry.counter(fmt::format("cordon_{}_messages_total", role), help,
                          fmt::format("result=\"{}\"", result));
}

}  // namespace

MessageMetrics::MessageMetrics(util::Metrics& registry, const MessageMetricsOptions& options)
    : can_hold_(options.can_hold),
      inspected_(result_counter(registry, options.role, options.help, "inspected")),
      scan_errors_(
          registry.counter(fmt::format("cordon_{}_scan_errors_total", options.role),
                           "Messages deferred because the detection engine failed to scan them")),
      unscannable_(registry.counter(
          fmt::format("cordon_{}_unscannable_total", options.role),
          "Inspected messages with content that could not be read (acted on by on_unscannable)")),
      scan_seconds_(registry.histogram(fmt::format("cordon_{}_scan_seconds", options.role),
                                       "Time to parse and evaluate one message",
                                       {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5})) {
  // Every result is on /metrics from the start, at zero.
  for (std::size_t i = 0; i < kOutcomes; ++i) {
    auto outcome = static_cast<Outcome>(i);
    if (outcome == Outcome::held && !can_hold_) outcome = Outcome::blocked;
    by_outcome_[i] = &result_counter(registry, options.role, options.help, to_string(outcome));
  }
}

Outcome MessageMetrics::outcome_of(const Inspection& result) const {
  switch (result.disposition) {
    case Disposition::loop:
      return Outcome::already_inspected;
    case Disposition::ignored:
      return Outcome::ignored;
    case Disposition::unparsable:
      return Outcome::refused;
    case Disposition::failed:
    case Disposition::scan_failed:
      return Outcome::deferred;
    case Disposition::inspected:
      break;
  }
  switch (result.verdict.action) {
    case policy::Action::block:
      return Outcome::blocked;
    case policy::Action::hold:
      return can_hold_ ? Outcome::held : Outcome::blocked;
    case policy::Action::redirect:
      return Outcome::redirected;
    case policy::Action::modify:
      return Outcome::modified;
    case policy::Action::pass:
      return Outcome::passed;
  }
  return Outcome::passed;
}

Outcome MessageMetrics::count(const Inspection& result) {
  const Outcome outcome = outcome_of(result);
  if (result.disposition == Disposition::scan_failed) scan_errors_.inc();
  if (result.disposition == Disposition::inspected) {
    inspected_.inc();
    if (std::any_of(result.problems.begin(), result.problems.end(),
                    [](const mime::Problem& p) { return mime::is_unscannable(p.kind); }))
      unscannable_.inc();
    scan_seconds_.observe(result.scan_time.count());
  }
  counter(outcome).inc();
  return outcome;
}

}  // namespace cordon::inspect
