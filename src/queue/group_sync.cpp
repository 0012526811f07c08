// DirectorySync: the leader/follower group commit of a state directory
// (see detail/group_sync.hpp).
#include "queue/detail/group_sync.hpp"

#include "queue/detail/fs_ops.hpp"

namespace cordon::queue {

DirectorySync::DirectorySync(std::filesystem::path dir, SyncFunction fsync)
    : dir_(std::move(dir)), fsync_(fsync ? std::move(fsync) : SyncFunction(fs_ops::fsync_dir)) {}

SpoolResult<Ok> DirectorySync::sync() {
  Waiter me;
  std::unique_lock lock(mutex_);
  pending_.push_back(&me);
  ++callers_;
  while (!me.done) {
    if (running_) {
      finished_.wait(lock);
      continue;
    }
    // Lead: everyone pending now renamed before this fsync begins.
    running_ = true;
    std::vector<Waiter*> batch;
    batch.swap(pending_);
    ++fsyncs_;
    lock.unlock();
    auto synced = fsync_(dir_);
    lock.lock();
    for (Waiter* w : batch) {
      w->done = true;
      if (!synced) w->failure = synced.error();
    }
    running_ = false;
    finished_.notify_all();
  }
  if (me.failure) return fail(std::move(*me.failure));
  return Ok{};
}

StateSyncs::StateSyncs(const std::filesystem::path& root)
    : incoming(root / to_string(QueueState::incoming)),
      active(root / to_string(QueueState::active)),
      deferred(root / to_string(QueueState::deferred)),
      hold(root / to_string(QueueState::hold)) {}

DirectorySync& StateSyncs::of(QueueState state) {
  switch (state) {
    case QueueState::incoming:
      return incoming;
    case QueueState::active:
      return active;
    case QueueState::deferred:
      return deferred;
    case QueueState::hold:
      break;
  }
  return hold;
}

std::uint64_t DirectorySync::fsyncs() const {
  std::lock_guard lock(mutex_);
  return fsyncs_;
}

std::uint64_t DirectorySync::callers() const {
  std::lock_guard lock(mutex_);
  return callers_;
}

}  // namespace cordon::queue
