// Envelopes kept in memory while the spool cannot write them; rules in
// queue/unsaved.hpp.
#include "queue/unsaved.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cordon::queue {

bool UnsavedEnvelopes::defer(const std::string& id, const Envelope& envelope) {
  std::lock_guard lock(mutex_);
  auto deferred = spool_.defer(id, envelope);
  auto it = kept_.find(id);
  if (deferred || deferred.error().code == SpoolError::not_found) {
    // Saved, or an operator held or deleted it during the attempt (then
    // theirs to decide, and their envelope stands).
    if (it != kept_.end()) {
      if (deferred) spdlog::info("queue {}: envelope saved; the spool can write again", id);
      kept_.erase(it);
    }
    return true;
  }
  if (it == kept_.end()) {
    spdlog::error(
        "queue {}: cannot save its envelope ({}): {}; the attempt's result is kept in memory "
        "and saved when the spool can write again",
        id, to_string(deferred.error().code), deferred.error().detail);
    it = kept_.emplace(id, Kept{}).first;
  }
  it->second.envelope = envelope;
  it->second.reason = deferred.error().detail;
  // The envelope could not be written; the rename into deferred/ needs no
  // space. (If Spool::defer failed at its own rename, this one fails too.)
  auto moved = spool_.defer_unchanged(id);
  if (!moved) {
    spdlog::error("queue {}: stays in active/ until its envelope can be saved: {}", id,
                  moved.error().detail);
    return false;
  }
  return true;
}

SpoolResult<Ok> UnsavedEnvelopes::remove(const std::string& id) {
  {
    // Forgotten first: retry() then never saves it again. The removal
    // itself needs no lock (the spool's renames are atomic), and holding
    // one over its file work would line every finished attempt up behind
    // it.
    std::lock_guard lock(mutex_);
    kept_.erase(id);
  }
  return spool_.remove_finished(id);
}

std::size_t UnsavedEnvelopes::retry(TimePoint now) {
  std::lock_guard lock(mutex_);
  for (auto it = kept_.begin(); it != kept_.end();) {
    const std::string& id = it->first;
    Kept& kept = it->second;
    auto where = spool_.find(id);
    if (!where && where.error().code == SpoolError::not_found) {
      // Deleted by an operator, or quarantined by the attempt that claimed it.
      if (kept.envelope) spdlog::info("queue {}: gone before its envelope could be saved", id);
      it = kept_.erase(it);
      continue;
    }
    if (!kept.envelope || !where) {  // an attempt owns it; or unreadable just now (I/O error)
      ++it;
      continue;
    }
    if (where->state == QueueState::incoming)  // flushed or released: due now
      kept.envelope->next_attempt = std::min(kept.envelope->next_attempt, now);
    // In active/ only when even the rename failed (claimed messages have no
    // envelope here): save it and move it on as the attempt meant to.
    auto saved = where->state == QueueState::active
                     ? spool_.defer(id, *kept.envelope)
                     : spool_.update(id, where->state, *kept.envelope);
    if (!saved) {
      kept.reason = saved.error().detail;
      ++it;
      continue;
    }
    spdlog::info("queue {}: envelope saved; the spool can write again", id);
    it = kept_.erase(it);
  }
  return kept_.size();
}

SpoolResult<std::vector<QueuedMessage>> UnsavedEnvelopes::due(TimePoint now) {
  retry(now);
  auto listed = spool_.due(now);
  if (!listed) return listed;
  std::lock_guard lock(mutex_);
  if (kept_.empty()) return listed;
  std::vector<QueuedMessage> out;
  for (auto& m : *listed) {
    auto it = kept_.find(m.id);
    if (it != kept_.end() && it->second.envelope) {
      m.envelope = *it->second.envelope;
      if (m.state == QueueState::deferred && m.envelope.next_attempt > now) continue;
    }
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.envelope.next_attempt < b.envelope.next_attempt;
  });
  return out;
}

SpoolResult<QueuedMessage> UnsavedEnvelopes::claim(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto claimed = spool_.activate(id);
  if (!claimed) return claimed;
  if (auto it = kept_.find(id); it != kept_.end() && it->second.envelope) {
    claimed->envelope = std::move(*it->second.envelope);
    it->second.envelope.reset();
  }
  return claimed;
}

std::size_t UnsavedEnvelopes::size() const {
  std::lock_guard lock(mutex_);
  return kept_.size();
}

}  // namespace cordon::queue
