// What make_snapshot() derives from InspectOptions: the parsed filters, the
// checked block reply options and the snapshot's inspector pool. Internal
// to src/inspect.
#pragma once

#include "inspect/detail/inspector_pool.hpp"
#include "inspect/inspect.hpp"
#include "policy/filter.hpp"

namespace cordon::inspect {

class Snapshot {
 public:
  explicit Snapshot(InspectOptions options);

  const InspectOptions& options() const { return options_; }
  const policy::Filter& sender_filter() const { return sender_filter_; }
  const policy::Filter& recipient_filter() const { return recipient_filter_; }
  // The pool is the one mutable part: lending is synchronised inside it.
  detail::InspectorPool& inspectors() const { return inspectors_; }

 private:
  InspectOptions options_;
  policy::Filter sender_filter_;
  policy::Filter recipient_filter_;
  mutable detail::InspectorPool inspectors_;
};

}  // namespace cordon::inspect
