// The spool's queue operations: listing, state moves, envelope updates,
// deletion, integrity checks, quarantine and start-up recovery. Receiving
// is in spool_writer.cpp.
#include "queue/spool.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "queue/detail/envelope_codec.hpp"
#include "queue/detail/fs_ops.hpp"
#include "queue/detail/group_sync.hpp"
#include "queue/detail/spare_entries.hpp"
#include "queue/detail/spool_layout.hpp"
#include "queue/queue_id.hpp"
#include "util/sha256.hpp"

namespace cordon::queue {

namespace fs = std::filesystem;
using fs_ops::UniqueFd;

namespace {

constexpr QueueState kAllStates[] = {QueueState::incoming, QueueState::active, QueueState::deferred,
                                     QueueState::hold};

// A message moving between states is in exactly one directory at every
// instant, but a scan of several directories is not atomic and can miss
// it; a few passes make that vanishingly unlikely.
constexpr int kFindPasses = 3;

// Keeps the next attempt where a stat finds it: the envelope file's mtime
// (as Postfix keeps it in the queue file's). It is a hint that lets due()
// skip messages that are not due without reading them; the envelope stays
// the authority. A lost stamp (a failed utimensat, or a crash before the
// inode reached the disk) leaves the mtime at the write time, which is
// earlier, so the message is read early and judged by its envelope: never
// late. Hence a failure here is logged and not returned.
void stamp_next_attempt(const fs::path& envelope_path, TimePoint next_attempt) {
  if (auto stamped = fs_ops::set_modification_time(envelope_path, next_attempt); !stamped)
    spdlog::warn("queue: {}", stamped.error().detail);
}

SpoolFailure invalid_id(std::string_view id) {
  return {SpoolError::invalid_id, "'" + std::string(id) + "' is not a queue id"};
}

// Entry names of a directory; an entry may be gone by the time the caller
// looks at it, which callers tolerate.
SpoolResult<std::vector<std::string>> entries(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  if (ec)
    return fail(SpoolFailure{SpoolError::io_error, "list " + dir.string() + ": " + ec.message()});
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string_view to_string(QueueState state) {
  switch (state) {
    case QueueState::incoming:
      return "incoming";
    case QueueState::active:
      return "active";
    case QueueState::deferred:
      return "deferred";
    case QueueState::hold:
      return "hold";
  }
  return "incoming";
}

std::optional<QueueState> queue_state_from_string(std::string_view text) {
  for (QueueState s : kAllStates)
    if (to_string(s) == text) return s;
  return std::nullopt;
}

namespace {
constexpr Damage kAllDamages[] = {Damage::envelope, Damage::content_missing, Damage::content_size,
                                  Damage::checksum, Damage::stray};
}  // namespace

std::string_view to_string(Damage damage) {
  switch (damage) {
    case Damage::envelope:
      return "envelope";
    case Damage::content_missing:
      return "content-missing";
    case Damage::content_size:
      return "content-size";
    case Damage::checksum:
      return "checksum";
    case Damage::stray:
      return "stray";
  }
  return "envelope";
}

std::optional<Damage> damage_from_string(std::string_view text) {
  for (Damage d : kAllDamages)
    if (to_string(d) == text) return d;
  return std::nullopt;
}

std::string_view to_string(SpoolError error) {
  switch (error) {
    case SpoolError::no_space:
      return "no space";
    case SpoolError::io_error:
      return "i/o error";
    case SpoolError::not_found:
      return "not found";
    case SpoolError::corrupt:
      return "corrupt";
    case SpoolError::invalid_id:
      return "invalid queue id";
    case SpoolError::invalid_state:
      return "invalid state";
    case SpoolError::writer_closed:
      return "writer closed";
  }
  return "unknown";
}

fs::path layout::envelope_file(const fs::path& message_dir) {
  auto inspected = message_dir / kInspected;
  struct stat st;
  if (::stat(inspected.c_str(), &st) == 0) return inspected;
  return message_dir / kEnvelope;
}

bool layout::discard(const fs::path& queue_root, const fs::path& message_dir, int& err) {
  auto doomed = queue_root / kStaging /
                (message_dir.filename().string() + ".deleted-" + fs_ops::random_token());
  if (::rename(message_dir.c_str(), doomed.c_str()) != 0) {
    err = errno;
    return false;
  }
  std::error_code ec;
  fs::remove_all(doomed, ec);
  return true;
}

// ---- ContentReader ----

ContentReader::ContentReader(ContentReader&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
ContentReader& ContentReader::operator=(ContentReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}
ContentReader::~ContentReader() {
  if (fd_ >= 0) ::close(fd_);
}

SpoolResult<std::size_t> ContentReader::read(std::span<char> buffer) {
  for (;;) {
    ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return fail(fs_ops::os_failure(errno, "read", "message content"));
  }
}

// ---- Spool ----

Spool::Spool(SpoolOptions options)
    : options_(std::move(options)),
      root_(options_.data_dir / "queue"),
      syncs_(std::make_shared<StateSyncs>(root_)),
      spares_(options_.reuse_entries == 0
                  ? nullptr
                  : std::make_shared<SpareEntries>(options_.reuse_entries, kMaxSpareContent)) {}

SpoolResult<Spool> Spool::open(SpoolOptions options) {
  Spool spool(std::move(options));
  std::vector<fs::path> dirs = {spool.root_ / layout::kStaging, spool.root_ / layout::kCorrupt};
  for (QueueState s : kAllStates) dirs.push_back(spool.state_dir(s));
  for (const auto& dir : dirs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      return fail(
          SpoolFailure{SpoolError::io_error, "create " + dir.string() + ": " + ec.message()});
  }
  return spool;
}

SpoolResult<std::size_t> Spool::count(QueueState state) const {
  auto names = entries(state_dir(state));
  if (!names) return fail(names.error());
  return names->size();
}

fs::path Spool::state_dir(QueueState state) const {
  return root_ / to_string(state);
}

SpoolResult<QueuedMessage> Spool::load(std::string_view id, QueueState state) const {
  const auto dir = state_dir(state) / std::string(id);
  // The directory first, then its files relative to it: a message that
  // moves to another state meanwhile (and maybe back) is never taken for
  // one whose envelope is missing.
  fs_ops::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return fail(fs_ops::os_failure(errno, "open", dir));
  std::string_view name = layout::kInspected;
  auto text = fs_ops::read_file_at(dir_fd.get(), dir, name);
  if (!text && text.error().code == SpoolError::not_found) {
    name = layout::kEnvelope;
    text = fs_ops::read_file_at(dir_fd.get(), dir, name);
  }
  if (!text) {
    // Still the same directory at its place yet without an envelope: a
    // commit never publishes that, so it is damage. Gone from its place
    // (a removal renames it away before deleting its files): not found.
    struct stat here {
    }, opened{};
    const bool same = ::stat(dir.c_str(), &here) == 0 && ::fstat(dir_fd.get(), &opened) == 0 &&
                      here.st_ino == opened.st_ino && here.st_dev == opened.st_dev;
    if (text.error().code == SpoolError::not_found) {
      if (same)
        return fail(SpoolFailure{SpoolError::corrupt,
                                 "missing envelope " + (dir / layout::kEnvelope).string()});
      return fail(SpoolFailure{SpoolError::not_found, text.error().detail});
    }
    return fail(text.error());
  }
  auto envelope = decode_envelope(*text);
  if (!envelope)
    return fail(SpoolFailure{SpoolError::corrupt,
                             (dir / std::string(name)).string() + ": " + envelope.error()});
  return QueuedMessage{std::string(id), state, std::move(*envelope)};
}

SpoolResult<Ok> Spool::rename_state(std::string_view id, QueueState from, QueueState to) const {
  auto source = state_dir(from) / std::string(id);
  if (::rename(source.c_str(), (state_dir(to) / std::string(id)).c_str()) != 0)
    return fail(fs_ops::os_failure(errno, "rename", source));
  // A claim lost in a crash leaves the message where it was (see spool.hpp).
  if (to == QueueState::active) return Ok{};
  return syncs_->of(to).sync();
}

SpoolResult<std::vector<QueuedMessage>> Spool::list() const {
  std::vector<QueuedMessage> out;
  for (QueueState state : kAllStates) {
    auto names = entries(state_dir(state));
    if (!names) return fail(names.error());
    for (const auto& name : *names) {
      if (!is_valid_queue_id(name)) continue;
      auto message = load(name, state);
      if (message) {
        out.push_back(std::move(*message));
      } else if (message.error().code != SpoolError::not_found) {
        spdlog::warn("queue {}: unreadable in {}/: {}", name, to_string(state),
                     message.error().detail);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

SpoolResult<QueuedMessage> Spool::find(std::string_view id) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  for (int pass = 0; pass < kFindPasses; ++pass) {
    for (QueueState state : kAllStates) {
      auto message = load(id, state);
      if (message || message.error().code != SpoolError::not_found) return message;
    }
  }
  return fail(
      SpoolFailure{SpoolError::not_found, "no message " + std::string(id) + " in the queue"});
}

SpoolResult<std::vector<QueuedMessage>> Spool::due(TimePoint now) const {
  std::vector<QueuedMessage> out;
  for (QueueState state : {QueueState::incoming, QueueState::deferred}) {
    auto names = entries(state_dir(state));
    if (!names) return fail(names.error());
    for (const auto& name : *names) {
      if (!is_valid_queue_id(name)) continue;
      if (state == QueueState::deferred) {
        // The envelope file's mtime is the next attempt (see update()): a
        // stat decides, and a message that is not due is not read. When the
        // stat fails, load() below tells a moved message from a damaged one.
        auto path = state_dir(state) / name / layout::kEnvelope;
        if (auto mtime = fs_ops::modification_time(path); mtime && *mtime > now) continue;
      }
      auto message = load(name, state);
      if (!message) {
        // Damage is set aside at once, so it is reported once and not at
        // every scan; an I/O error may pass and is only reported.
        if (message.error().code == SpoolError::corrupt)
          (void)quarantine(name, state, Damage::envelope, message.error().detail);
        else if (message.error().code != SpoolError::not_found)
          spdlog::warn("queue {}: unreadable in {}/: {}", name, to_string(state),
                       message.error().detail);
        continue;
      }
      if (state == QueueState::incoming || message->envelope.next_attempt <= now)
        out.push_back(std::move(*message));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.envelope.next_attempt < b.envelope.next_attempt;
  });
  return out;
}

SpoolResult<QueuedMessage> Spool::activate(std::string_view id) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  auto moved = rename_state(id, QueueState::incoming, QueueState::active);
  if (!moved && moved.error().code == SpoolError::not_found)
    moved = rename_state(id, QueueState::deferred, QueueState::active);
  if (!moved) return fail(moved.error());
  auto message = load(id, QueueState::active);
  if (!message && message.error().code == SpoolError::corrupt)
    (void)quarantine(id, QueueState::active, Damage::envelope, message.error().detail);
  return message;
}

SpoolResult<Ok> Spool::update(std::string_view id, QueueState state,
                              const Envelope& envelope) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  auto dir = state_dir(state) / std::string(id);
  const auto file = layout::envelope_file(dir);
  if (auto replaced =
          fs_ops::replace_file(dir, file.filename().string(), encode_envelope(envelope));
      !replaced)
    return replaced;
  // envelope.json carries the next attempt in every entry, the inspected
  // copy's too: due() needs one stat per entry.
  stamp_next_attempt(dir / layout::kEnvelope, envelope.next_attempt);
  return Ok{};
}

SpoolResult<Ok> Spool::attach_inspected(std::string_view id, const Envelope& inspected) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  const auto dir = state_dir(QueueState::active) / std::string(id);
  const auto path = dir / layout::kInspected;
  const std::string text = encode_envelope(inspected);
  // A reused entry has a file for it already: written in full and fsynced
  // under its spare name, it becomes the envelope by one rename, so a crash
  // leaves either no inspected copy or all of it.
  const auto spare = dir / layout::kInspectedSpare;
  if (fs_ops::UniqueFd fd(::open(spare.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC)); fd.valid()) {
    auto written = fs_ops::write_all(fd.get(), text, spare);
    if (written && ::ftruncate(fd.get(), static_cast<off_t>(text.size())) != 0)
      written = fail(fs_ops::os_failure(errno, "truncate", spare));
    if (written) written = fs_ops::fsync_fd(fd.get(), spare);
    if (!written) return written;
    // RENAME_NOREPLACE: one inspected copy per entry, as O_EXCL below.
    if (::renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0)
      return fail(fs_ops::os_failure(errno, "rename", spare));
    if (auto synced = fs_ops::fsync_dir(dir); !synced) {
      ::unlink(path.c_str());
      return synced;
    }
    stamp_next_attempt(dir / layout::kEnvelope, inspected.next_attempt);
    return Ok{};
  }
  // O_EXCL: one inspected copy per entry; a second one is queued as a copy.
  fs_ops::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return fail(fs_ops::os_failure(errno, "create", path));
  auto written = fs_ops::write_all(fd.get(), text, path);
  if (written) written = fs_ops::fsync_fd(fd.get(), path);
  if (written) written = fs_ops::fsync_dir(dir);
  if (!written) {
    // Never leave half an inspected copy: the original stays as it was.
    ::unlink(path.c_str());
    return written;
  }
  stamp_next_attempt(dir / layout::kEnvelope, inspected.next_attempt);
  return Ok{};
}

SpoolResult<Ok> Spool::requeue(std::string_view id) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  return rename_state(id, QueueState::active, QueueState::incoming);
}

SpoolResult<Ok> Spool::add_trace(std::string_view id, QueueState state, TraceEvent event) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  auto message = load(id, state);
  if (!message) return fail(message.error());
  message->envelope.trace.push_back(std::move(event));
  return update(id, state, message->envelope);
}

SpoolResult<Ok> Spool::defer(std::string_view id, const Envelope& envelope) const {
  if (auto updated = update(id, QueueState::active, envelope); !updated) return updated;
  return rename_state(id, QueueState::active, QueueState::deferred);
}

SpoolResult<Ok> Spool::defer_unchanged(std::string_view id) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  return rename_state(id, QueueState::active, QueueState::deferred);
}

SpoolResult<QueueState> Spool::hold(std::string_view id, TimePoint now) const {
  for (int pass = 0; pass < kFindPasses; ++pass) {
    auto message = find(id);
    if (!message) return fail(message.error());
    if (message->state == QueueState::hold) return QueueState::hold;
    auto moved = rename_state(id, message->state, QueueState::hold);
    if (!moved) {
      if (moved.error().code == SpoolError::not_found) continue;  // moved meanwhile: look again
      return fail(moved.error());
    }
    // The trace entry is a courtesy: the hold itself is already durable.
    message->envelope.add_trace(now, std::string(trace_event::hold),
                                std::string("was ") + std::string(to_string(message->state)));
    (void)update(id, QueueState::hold, message->envelope);
    return message->state;
  }
  return fail(SpoolFailure{SpoolError::not_found, "message " + std::string(id) + " kept moving"});
}

SpoolResult<Ok> Spool::release(std::string_view id, TimePoint now) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  auto moved = rename_state(id, QueueState::hold, QueueState::incoming);
  if (!moved) {
    if (moved.error().code != SpoolError::not_found) return moved;
    auto elsewhere = find(id);
    if (!elsewhere) return fail(elsewhere.error());
    return fail(SpoolFailure{SpoolError::invalid_state,
                             "message " + std::string(id) + " is " +
                                 std::string(to_string(elsewhere->state)) + ", not on hold"});
  }
  if (auto message = load(id, QueueState::incoming)) {
    message->envelope.next_attempt = now;
    message->envelope.add_trace(now, std::string(trace_event::released));
    (void)update(id, QueueState::incoming, message->envelope);
  }
  return Ok{};
}

SpoolResult<Ok> Spool::remove(std::string_view id) const {
  for (int pass = 0; pass < kFindPasses; ++pass) {
    auto message = find(id);
    if (!message) {
      // A quarantined entry, and an unreadable message, can still be deleted by an operator.
      if (message.error().code == SpoolError::not_found) {
        int err = 0;
        if (layout::discard(root_, root_ / layout::kCorrupt / std::string(id), err)) return Ok{};
      }
      if (message.error().code != SpoolError::corrupt) return fail(message.error());
      for (QueueState state : kAllStates) {
        int err = 0;
        if (layout::discard(root_, state_dir(state) / std::string(id), err)) return Ok{};
      }
      continue;
    }
    int err = 0;
    if (layout::discard(root_, state_dir(message->state) / std::string(id), err)) return Ok{};
    if (err != ENOENT)
      return fail(fs_ops::os_failure(err, "delete", state_dir(message->state) / std::string(id)));
  }
  return fail(SpoolFailure{SpoolError::not_found, "message " + std::string(id) + " kept moving"});
}

SpoolResult<Ok> Spool::remove_finished(std::string_view id) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  if (!spares_) return remove(id);
  const auto dir = state_dir(QueueState::active) / std::string(id);
  const auto spare =
      root_ / layout::kStaging / (std::string(id) + ".spare-" + fs_ops::random_token());
  if (::rename(dir.c_str(), spare.c_str()) != 0) {
    if (errno == ENOENT) return remove(id);
    return fail(fs_ops::os_failure(errno, "delete", dir));
  }
  // Reused only when the old name is durably gone: otherwise a crash could
  // bring the old message back with the next one's bytes in its files. The
  // fsync of active/ is shared with every removal made while the previous
  // one ran.
  if (!syncs_->active.sync() || !spares_->offer(spare)) {
    std::error_code ec;
    fs::remove_all(spare, ec);
  }
  return Ok{};
}

SpoolResult<std::size_t> Spool::flush(TimePoint now) const {
  auto names = entries(state_dir(QueueState::deferred));
  if (!names) return fail(names.error());
  std::size_t moved = 0;
  for (const auto& name : *names) {
    if (!is_valid_queue_id(name)) continue;
    auto renamed = rename_state(name, QueueState::deferred, QueueState::incoming);
    if (!renamed) {
      if (renamed.error().code == SpoolError::not_found) continue;  // claimed by a worker meanwhile
      return fail(renamed.error());
    }
    ++moved;
    // If a worker claims it before this update, the update fails with
    // not_found and the worker's own envelope wins: both are complete.
    if (auto message = load(name, QueueState::incoming)) {
      message->envelope.next_attempt = now;
      message->envelope.add_trace(now, std::string(trace_event::flushed));
      (void)update(name, QueueState::incoming, message->envelope);
    }
  }
  return moved;
}

SpoolResult<ContentReader> Spool::open_content(std::string_view id, QueueState state) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  auto path = state_dir(state) / std::string(id) / layout::kContent;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(fs_ops::os_failure(errno, "open", path));
  return ContentReader(fd);
}

SpoolResult<std::string> Spool::read_checked(const QueuedMessage& message) const {
  const auto& id = message.id;
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  const auto dir = state_dir(message.state) / id;
  auto content = fs_ops::read_file(dir / layout::kContent);
  if (!content) {
    std::error_code ec;
    // The directory is there but its content is not: damage, not a move.
    if (content.error().code == SpoolError::not_found && fs::is_directory(dir, ec)) {
      (void)quarantine(id, message.state, Damage::content_missing, content.error().detail);
      return fail(SpoolFailure{SpoolError::corrupt, content.error().detail});
    }
    return content;
  }
  const auto& envelope = message.envelope;
  std::optional<Damage> damage;
  std::string detail;
  if (content->size() != envelope.content_size) {
    damage = Damage::content_size;
    detail = "content is " + std::to_string(content->size()) + " bytes, envelope says " +
             std::to_string(envelope.content_size);
  } else if (!envelope.content_sha256.empty()) {
    auto actual = util::sha256_hex(*content);
    if (actual != envelope.content_sha256) {
      damage = Damage::checksum;
      detail = "content SHA-256 is " + actual + ", envelope says " + envelope.content_sha256;
    }
  }
  if (!damage) {
    if (!envelope.content_prefix.empty()) content->insert(0, envelope.content_prefix);
    return content;
  }
  (void)quarantine(id, message.state, *damage, detail);
  return fail(SpoolFailure{SpoolError::corrupt, detail});
}

SpoolResult<Ok> Spool::quarantine(std::string_view name, QueueState state, Damage damage,
                                  std::string_view detail) const {
  auto from = state_dir(state) / std::string(name);
  std::error_code ec;
  // Only names a state directory can hold: never a path out of the queue.
  if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..")
    return fail(invalid_id(name));
  auto target = root_ / layout::kCorrupt / std::string(name);
  if (fs::exists(target, ec)) target += "." + fs_ops::random_token();
  if (auto moved = fs_ops::rename_durably(from, target); !moved) return moved;
  spdlog::error("queue {}: quarantined from {}/ to {} ({}): {}", name, to_string(state),
                (fs::path(layout::kCorrupt) / target.filename()).string(), to_string(damage),
                detail);
  // Why it is there, for `cordon queue list`; a courtesy (the disk may be
  // full): without it the entry is listed with an unknown reason.
  if (fs::is_directory(target, ec)) {
    QuarantineRecord record{damage, std::string(to_string(state)), std::string(detail),
                            std::chrono::system_clock::now()};
    (void)fs_ops::replace_file(target, kQuarantineRecord, encode_quarantine_record(record));
  }
  if (options_.on_quarantine) options_.on_quarantine(damage);
  return Ok{};
}

SpoolResult<std::vector<QuarantinedEntry>> Spool::list_corrupt() const {
  auto dir = root_ / layout::kCorrupt;
  auto names = entries(dir);
  if (!names) return fail(names.error());
  std::vector<QuarantinedEntry> out;
  for (const auto& name : *names) {
    QuarantinedEntry entry;
    entry.name = name;
    auto path = dir / name;
    if (auto mtime = fs_ops::modification_time(path)) entry.time = *mtime;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      entry.damage = Damage::stray;
      entry.detail = "not a queue entry";
    } else {
      if (auto text = fs_ops::read_file(path / std::string(kQuarantineRecord))) {
        if (auto record = decode_quarantine_record(*text)) {
          entry.damage = record->damage;
          entry.detail = record->detail;
          entry.from = record->from;
          entry.time = record->time;
        }
      }
      if (auto text = fs_ops::read_file(layout::envelope_file(path)))
        if (auto envelope = decode_envelope(*text)) entry.envelope = std::move(*envelope);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

SpoolResult<std::string> Spool::read_content(std::string_view id, QueueState state) const {
  if (!is_valid_queue_id(id)) return fail(invalid_id(id));
  return fs_ops::read_file(state_dir(state) / std::string(id) / layout::kContent);
}

// ---- recovery ----

SpoolResult<std::size_t> Spool::quarantine_unreadable(QueueState state) const {
  auto dir = state_dir(state);
  auto names = entries(dir);
  if (!names) return fail(names.error());
  std::size_t quarantined = 0;
  for (const auto& name : *names) {
    auto message_dir = dir / name;
    std::string reason;
    Damage damage = Damage::envelope;
    std::error_code ec;
    if (!is_valid_queue_id(name) || !fs::is_directory(message_dir, ec)) {
      reason = "not a queue entry";
      damage = Damage::stray;
    } else {
      // Temporary envelopes of interrupted updates: the previous envelope
      // is intact, so they are simply dropped.
      for (fs::directory_iterator it(message_dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().find(fs_ops::kTempMarker) != std::string::npos)
          fs::remove(it->path(), ec);
      auto message = load(name, state);
      if (!message) {
        reason = message.error().detail;
      } else {
        auto size = fs::file_size(message_dir / layout::kContent, ec);
        if (ec) {
          reason = "content unreadable: " + ec.message();
          damage = Damage::content_missing;
        } else if (size != message->envelope.content_size) {
          reason = "content is " + std::to_string(size) + " bytes, envelope says " +
                   std::to_string(message->envelope.content_size);
          damage = Damage::content_size;
        } else if (state == QueueState::deferred)
          // A stamp lost in a crash, or a spool written before the stamp
          // existed: put the next attempt back where due() looks for it.
          stamp_next_attempt(message_dir / layout::kEnvelope, message->envelope.next_attempt);
      }
    }
    if (reason.empty()) continue;
    if (auto moved = quarantine(name, state, damage, reason); !moved) return fail(moved.error());
    ++quarantined;
  }
  return quarantined;
}

SpoolResult<RecoveryReport> Spool::recover() const {
  RecoveryReport report;
  auto staging = root_ / layout::kStaging;
  auto staged = entries(staging);
  if (!staged) return fail(staged.error());
  for (const auto& name : *staged) {
    std::error_code ec;
    fs::remove_all(staging / name, ec);
    if (ec)
      return fail(SpoolFailure{SpoolError::io_error,
                               "purge " + (staging / name).string() + ": " + ec.message()});
    ++report.purged_staging;
  }
  if (auto synced = fs_ops::fsync_dir(staging); !synced) return fail(synced.error());

  auto active = entries(state_dir(QueueState::active));
  if (!active) return fail(active.error());
  for (const auto& name : *active) {
    if (!is_valid_queue_id(name)) {
      if (auto moved = quarantine(name, QueueState::active, Damage::stray, "not a queue entry");
          !moved)
        return fail(moved.error());
      ++report.quarantined;
      continue;
    }
    auto moved = fs_ops::rename_durably(state_dir(QueueState::active) / name,
                                        state_dir(QueueState::incoming) / name);
    if (!moved) return fail(moved.error());
    ++report.requeued_active;
    spdlog::info("queue {}: was active at shutdown, requeued", name);
  }

  for (QueueState state : {QueueState::incoming, QueueState::deferred, QueueState::hold}) {
    auto quarantined = quarantine_unreadable(state);
    if (!quarantined) return fail(quarantined.error());
    report.quarantined += *quarantined;
  }
  return report;
}

}  // namespace cordon::queue
