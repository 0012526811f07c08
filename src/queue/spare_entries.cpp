// The pool of emptied message directories (queue/detail/spare_entries.hpp).
#include "queue/detail/spare_entries.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "queue/detail/fs_ops.hpp"
#include "queue/detail/spool_layout.hpp"

namespace cordon::queue {

namespace {

// Leaves only content, envelope.json and a spare for the inspected copy's
// envelope in `dir`; false when something in it
// is not a regular file or the content is too large to be worth keeping.
bool strip_to_message_files(const std::filesystem::path& dir, std::uint64_t max_content) {
  fs_ops::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!dir_fd.valid()) return false;
  DIR* stream = ::fdopendir(::dup(dir_fd.get()));
  if (stream == nullptr) return false;
  bool plain = true;
  bool has_content = false;
  while (plain) {
    const dirent* entry = ::readdir(stream);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir_fd.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
      plain = false;
    } else if (name == layout::kContent) {
      has_content = true;
      plain = static_cast<std::uint64_t>(st.st_size) <= max_content;
    } else if (name == layout::kInspected) {
      plain = ::renameat(dir_fd.get(), entry->d_name, dir_fd.get(),
                         std::string(layout::kInspectedSpare).c_str()) == 0;
    } else if (name != layout::kEnvelope && name != layout::kInspectedSpare) {
      // A temporary file an interrupted update left.
      plain = ::unlinkat(dir_fd.get(), entry->d_name, 0) == 0;
    }
  }
  ::closedir(stream);
  return plain && has_content;
}

}  // namespace

SpareEntries::SpareEntries(std::size_t capacity, std::uint64_t max_content)
    : capacity_(capacity), max_content_(max_content) {
  spares_.reserve(capacity);
}

bool SpareEntries::offer(const std::filesystem::path& dir) {
  {
    std::lock_guard lock(mutex_);
    if (spares_.size() >= capacity_) return false;
  }
  if (!strip_to_message_files(dir, max_content_)) return false;
  std::lock_guard lock(mutex_);
  if (spares_.size() >= capacity_) return false;
  spares_.push_back(dir);
  return true;
}

std::optional<std::filesystem::path> SpareEntries::take() {
  std::lock_guard lock(mutex_);
  if (spares_.empty()) return std::nullopt;
  // The most recently emptied: its blocks are the likeliest still cached.
  auto dir = std::move(spares_.back());
  spares_.pop_back();
  return dir;
}

std::size_t SpareEntries::size() const {
  std::lock_guard lock(mutex_);
  return spares_.size();
}

}  // namespace cordon::queue
