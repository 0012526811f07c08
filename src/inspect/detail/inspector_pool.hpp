// The per-thread inspection state of one snapshot and the pool that lends
// it out. Internal to src/inspect.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "extract/extract.hpp"
#include "policy/evaluate.hpp"
#include "policy/policy_set.hpp"

namespace cordon::inspect::detail {

// Reused across messages on one thread at a time: an Evaluator (owning a
// Vectorscan scratch space) and an attachment Extractor (owning a libmagic
// handle, which is not thread-safe).
struct Inspector {
  Inspector(std::shared_ptr<const policy::PolicySet> policies, const extract::Limits& limits,
            detect::ScanFault fault);
  policy::Evaluator evaluator;
  std::optional<extract::Extractor> extractor;  // empty: extractor_error says why
  std::string extractor_error;
};

// A worker takes an Inspector for one message and gives it back; at most
// one per concurrently inspecting thread is ever created. The pool belongs
// to one snapshot, so a reload frees the old database's scratch as soon as
// the last session of the old snapshot has finished.
class InspectorPool {
 public:
  InspectorPool(std::shared_ptr<const policy::PolicySet> policies, extract::Limits limits,
                detect::ScanFault fault = {})
      : policies_(std::move(policies)), limits_(std::move(limits)), fault_(std::move(fault)) {}

  class Lease {
   public:
    Lease(InspectorPool& pool, std::unique_ptr<Inspector> inspector)
        : pool_(&pool), inspector_(std::move(inspector)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (inspector_) pool_->give_back(std::move(inspector_));
    }
    Inspector& operator*() { return *inspector_; }
    Inspector* operator->() { return inspector_.get(); }

   private:
    InspectorPool* pool_;
    std::unique_ptr<Inspector> inspector_;
  };

  Lease acquire();

 private:
  void give_back(std::unique_ptr<Inspector> inspector);

  const std::shared_ptr<const policy::PolicySet> policies_;
  const extract::Limits limits_;
  const detect::ScanFault fault_;  // test-only (InspectOptions::scan_fault)
  std::mutex mutex_;
  std::vector<std::unique_ptr<Inspector>> free_;
};

}  // namespace cordon::inspect::detail
