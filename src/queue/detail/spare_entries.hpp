// Emptied message directories kept for reuse by the next messages received.
//
// Every message costs a directory and two files; on a busy queue, creating
// and freeing those inodes is most of the file-system work (an ext4
// without a journal also skips, on every allocation, each inode freed in the
// last 30 seconds). A message whose attempt has ended leaves its directory
// here instead, under staging/ (which recovery purges), and the next
// message received overwrites its files in place. A directory is offered
// only after its removal from its queue state is durable, so a crash can
// never bring back the old message holding the new one's bytes. Internal
// to src/queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

namespace cordon::queue {

// Content files larger than this are not kept: a few large ones would hold
// more disk than many small ones save.
inline constexpr std::uint64_t kMaxSpareContent = 256 * 1024;

class SpareEntries {
 public:
  // Keeps at most `capacity` directories; a content file larger than
  // `max_content` bytes is not kept (its blocks would sit unused).
  SpareEntries(std::size_t capacity, std::uint64_t max_content);

  // Takes `dir` (already under staging/, holding a finished message's
  // files): keeps its content and envelope files for reuse (inspected.json
  // renamed to inspected.json.spare) and deletes anything else in it. Returns false, leaving `dir` to the caller to
  // delete, when the pool is full or `dir` is not a plain message directory.
  bool offer(const std::filesystem::path& dir);

  // A kept directory, or nothing. It is the caller's from then on.
  std::optional<std::filesystem::path> take();

  std::size_t size() const;

 private:
  const std::size_t capacity_;
  const std::uint64_t max_content_;
  mutable std::mutex mutex_;
  std::vector<std::filesystem::path> spares_;
};

}  // namespace cordon::queue
