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
// The envelope of an inspected copy kept in the original's entry
// (Spool::attach_inspected). When present it is the entry's envelope, and
// envelope.json (the original's) is only history.
inline constexpr std::string_view kInspected = "inspected.json";
// In an entry reused from a finished message (SpareEntries): that
// message's inspected.json, kept to be overwritten by this one's inspected
// copy, then renamed to kInspected. Never read as an envelope.
inline constexpr std::string_view kInspectedSpare = "inspected.json.spare";

// The file holding the envelope of the entry in `message_dir`: inspected.json
// when there is one, else envelope.json.
std::filesystem::path envelope_file(const std::filesystem::path& message_dir);

// Deletes a message directory without ever leaving a half-deleted message
// in a queue state: first an atomic rename into staging/ (which recovery
// purges), then the files. Returns false only when the rename fails.
bool discard(const std::filesystem::path& queue_root, const std::filesystem::path& message_dir,
             int& err);

}  // namespace cordon::queue::layout
