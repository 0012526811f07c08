// Names inside the spool directory tree, shared by the spool's source
// files. Internal to src/queue.
#pragma once

#include <filesystem>
#include <string_view>

namespace cordon::queue::layout {

inline constexpr std::string_view kStaging = "staging";
inline constexpr std::string_view kCorrupt = "corrupt";
inline constexpr std::string_view kContent = "content";
inline constexpr std::string_view kEnvelope = "envelope.json";

// Deletes a message directory without ever leaving a half-deleted message
// in a queue state: first an atomic rename into staging/ (which recovery
// purges), then the files. Returns false only when the rename fails.
bool discard(const std::filesystem::path& queue_root, const std::filesystem::path& message_dir,
             int& err);

}  // namespace cordon::queue::layout
