// The snapshot's pool of per-thread inspectors (see detail/inspector_pool.hpp).
#include "inspect/detail/inspector_pool.hpp"

namespace cordon::inspect::detail {

Inspector::Inspector(std::shared_ptr<const policy::PolicySet> policies,
                     const extract::Limits& limits, detect::ScanFault fault)
    : evaluator(std::move(policies), std::move(fault)) {
  auto made = extract::Extractor::create(limits);
  if (made)
    extractor.emplace(std::move(made).value());
  else
    extractor_error = made.error().detail;
}

InspectorPool::Lease InspectorPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      auto inspector = std::move(free_.back());
      free_.pop_back();
      return Lease(*this, std::move(inspector));
    }
  }
  // Allocating scratch space and loading libmagic take a while: outside the lock.
  return Lease(*this, std::make_unique<Inspector>(policies_, limits_, fault_));
}

void InspectorPool::give_back(std::unique_ptr<Inspector> inspector) {
  std::lock_guard lock(mutex_);
  free_.push_back(std::move(inspector));
}

}  // namespace cordon::inspect::detail
