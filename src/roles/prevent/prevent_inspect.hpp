// The prevent role's decision on one received message, computed on a worker
// thread: loop check, L7 filters, MIME parse, policy evaluation, incident
// record, and what to send on (the rewritten message or the block reply).
// No network I/O here; the session (prevent_session.hpp) acts on the result.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "incidents/store.hpp"
#include "config/config.hpp"
#include "extract/extract.hpp"
#include "policy/evaluate.hpp"
#include "policy/filter.hpp"
#include "roles/prevent/prevent_message.hpp"
#include "smtp/reply_builder.hpp"

namespace cordon::roles::prevent {

// What prevent derives once per configuration snapshot and shares between
// the sessions that run under it.
struct SnapshotPolicy {
  std::shared_ptr<const config::Config> config;
  policy::Filter sender_filter;
  policy::Filter recipient_filter;
  smtp::BlockReplyOptions block_reply;
};

// Builds the per-snapshot state. Filters the loader already validated
// cannot fail to parse; if one does anyway, it is left empty (inspect
// everything) — failing open on inspection scope would leak data.
std::shared_ptr<const SnapshotPolicy> make_snapshot_policy(
    std::shared_ptr<const config::Config> config);

// Per-thread inspection state reused across messages: an Evaluator (owning
// a Vectorscan scratch space) and an attachment Extractor (owning a
// libmagic handle, which is not thread-safe). A worker takes one for the
// message's configuration snapshot and gives it back; at most one per
// concurrently scanning thread is ever created.
struct Inspector {
  std::shared_ptr<const config::Config> config;
  std::unique_ptr<policy::Evaluator> evaluator;
  std::optional<extract::Extractor> extractor;  // empty: extractor_error says why
  std::string extractor_error;
};

class EvaluatorPool {
 public:
  class Lease {
   public:
    Lease(EvaluatorPool& pool, std::unique_ptr<Inspector> inspector)
        : pool_(&pool), inspector_(std::move(inspector)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (inspector_) pool_->give_back(std::move(inspector_));
    }
    policy::Evaluator& operator*() { return *inspector_->evaluator; }
    policy::Evaluator* operator->() { return inspector_->evaluator.get(); }
    Inspector& inspector() { return *inspector_; }

   private:
    EvaluatorPool* pool_;
    std::unique_ptr<Inspector> inspector_;
  };

  Lease acquire(const std::shared_ptr<const config::Config>& config);

 private:
  void give_back(std::unique_ptr<Inspector> inspector);
  std::mutex mutex_;
  std::vector<std::unique_ptr<Inspector>> free_;
};

enum class Disposition {
  loop,        // already inspected by this deployment: relayed unchanged
  ignored,     // the L7 filters exclude it: relayed uninspected
  inspected,   // evaluated; see verdict
  unparsable,  // nothing could be inspected (limit exceeded): refused
  failed,      // an internal error: deferred
};

struct InspectInput {
  std::shared_ptr<const std::string> message;
  std::shared_ptr<const SnapshotPolicy> policy;
  policy::Envelope envelope;
  Deployment deployment;
};

struct Inspection {
  Disposition disposition = Disposition::failed;
  policy::Verdict verdict;
  std::string detail;  // filter explanation, parse or store error, for the log
  std::string subject;
  std::string message_id;
  std::optional<incidents::RecordOutcome> incident;
  // What to relay when the message goes on; nullopt: the original bytes.
  std::optional<std::string> outgoing;
  std::string block_reply;  // wire form, when the verdict is block
  std::chrono::duration<double> scan_time{0};
};

// Never throws. `store` may be null (no incidents recorded).
Inspection inspect(const InspectInput& input, EvaluatorPool& evaluators,
                   incidents::IncidentStore* store);

// incidents::NewIncident for a violated verdict.
incidents::NewIncident make_incident(const policy::Verdict& verdict,
                                     const policy::Envelope& envelope, std::string subject,
                                     std::string message_id, std::string content_hash);

}  // namespace cordon::roles::prevent
