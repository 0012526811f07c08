// Group commit of a queue state directory: one fsync(2) of the directory
// covers every rename into it that finished while the previous fsync ran.
// Internal to src/queue (Spool holds one per state directory).
//
// Why: each message entering a state directory needs that directory's
// entry on disk before anyone is told so (the 250 after DATA, a deferral),
// and a directory fsync costs a journal commit. With many sessions
// finishing DATA at once, they would queue behind each other's fsyncs of
// the very same directory; instead the first caller becomes the leader and
// fsyncs, the others wait, and whoever arrives while that fsync runs is
// covered by the next one, which one of them starts as soon as it ends. A
// caller returns only after an fsync that BEGAN after its rename has
// completed, so the guarantee is the one a private fsync gives. A failed
// fsync is reported to every caller of that batch (after an fsync error the
// kernel may report success next time, so no one in the batch may retry
// its way to "durable").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "queue/spool.hpp"

namespace cordon::queue {

class DirectorySync {
 public:
  using SyncFunction = std::function<SpoolResult<Ok>(const std::filesystem::path&)>;
  // `fsync` replaces the directory fsync (tests); empty: fs_ops::fsync_dir.
  explicit DirectorySync(std::filesystem::path dir, SyncFunction fsync = {});
  DirectorySync(const DirectorySync&) = delete;
  DirectorySync& operator=(const DirectorySync&) = delete;

  // Returns once the directory's entries as they were when sync() was
  // called are durable; blocks the calling thread.
  SpoolResult<Ok> sync();

  // Directory fsyncs done so far, and callers they covered (for tests and
  // metrics: callers / fsyncs is the batch size).
  std::uint64_t fsyncs() const;
  std::uint64_t callers() const;

 private:
  struct Waiter {
    bool done = false;
    std::optional<SpoolFailure> failure;
  };

  const std::filesystem::path dir_;
  const SyncFunction fsync_;
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  std::vector<Waiter*> pending_;  // arrived since the running fsync began
  bool running_ = false;
  std::uint64_t fsyncs_ = 0;
  std::uint64_t callers_ = 0;
};

// One per state directory of a spool; shared by the copies of a Spool.
struct StateSyncs {
  explicit StateSyncs(const std::filesystem::path& root);
  DirectorySync& of(QueueState state);

  DirectorySync incoming, active, deferred, hold;
};

}  // namespace cordon::queue
