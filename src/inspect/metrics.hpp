// What the inspections of a mail-path role came to, counted once for every
// role that answers for a message (prevent, milter): the
// cordon_<role>_messages_total{result} counters, engine errors, unscannable
// content and the scan time. The role names itself; the metric names are
// part of the documented /metrics contract (docs/formats.md).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "inspect/inspect.hpp"
#include "util/metrics.hpp"

namespace cordon::inspect {

// The result label an inspection is counted under.
enum class Outcome {
  already_inspected,  // the loop stamp: relayed unchanged
  ignored,            // outside the L7 filters
  refused,            // unparsable: 554
  deferred,           // internal or engine error: 451
  blocked,
  redirected,
  modified,
  held,
  passed,
};

std::string_view to_string(Outcome outcome);

struct MessageMetricsOptions {
  std::string_view role;  // "prevent": cordon_prevent_messages_total, ...
  std::string_view help;  // of the messages counter
  // A role without a hold queue refuses held messages as blocked ones, and
  // counts them so.
  bool can_hold = true;
};

class MessageMetrics {
 public:
  MessageMetrics(util::Metrics& registry, const MessageMetricsOptions& options);

  // What `result` comes to in this role (held is blocked where it cannot hold).
  Outcome outcome_of(const Inspection& result) const;
  // Counts one inspection: its outcome, and for an evaluated message also
  // "inspected", unscannable content and the scan time; an engine error is
  // counted as such. Returns the outcome counted.
  Outcome count(const Inspection& result);
  // A message answered for without an inspection (too big to inspect, the
  // next hop failed): counted under `outcome` beside the inspected ones.
  void add(Outcome outcome) { counter(outcome).inc(); }

 private:
  static constexpr std::size_t kOutcomes = static_cast<std::size_t>(Outcome::passed) + 1;
  util::Counter& counter(Outcome outcome) {
    return *by_outcome_[static_cast<std::size_t>(outcome)];
  }

  bool can_hold_;
  std::array<util::Counter*, kOutcomes> by_outcome_{};
  util::Counter& inspected_;
  util::Counter& scan_errors_;
  util::Counter& unscannable_;
  util::Histogram& scan_seconds_;
};

}  // namespace cordon::inspect
