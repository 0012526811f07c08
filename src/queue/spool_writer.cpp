// Receiving a message into the spool: Spool::begin and MessageWriter. The
// commit protocol is described in spool.hpp; this file also decides when a
// full disk is reported (before writing, every MiB, and on any ENOSPC),
// and computes the content's SHA-256 as it streams by (no second read).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "queue/detail/envelope_codec.hpp"
#include "queue/detail/fs_ops.hpp"
#include "queue/detail/group_sync.hpp"
#include "queue/detail/spare_entries.hpp"
#include "queue/detail/spool_layout.hpp"
#include "queue/queue_id.hpp"
#include "queue/spool.hpp"
#include "util/sha256.hpp"

namespace cordon::queue {

using fs_ops::UniqueFd;

namespace {

// Content is buffered so that the many small chunks an SMTP DATA phase
// produces turn into few write(2) calls.
constexpr std::size_t kWriteBuffer = 64 * 1024;
// How much content may be written between two free-space checks.
constexpr std::uint64_t kSpaceCheckInterval = 1024 * 1024;

SpoolResult<Ok> check_free_space(const std::filesystem::path& root, std::uint64_t min_free,
                                 std::uint64_t about_to_write) {
  if (min_free == 0) return Ok{};
  auto free = fs_ops::free_bytes(root);
  if (!free) return fail(free.error());
  if (*free < min_free || *free - min_free < about_to_write)
    return fail(SpoolFailure{SpoolError::no_space,
                             "free space " + std::to_string(*free) + " bytes is below min_free " +
                                 std::to_string(min_free) + " plus the message"});
  return Ok{};
}

}  // namespace

struct MessageWriter::State {
  std::filesystem::path root;
  std::shared_ptr<StateSyncs> syncs;
  std::filesystem::path staging_dir;
  std::string id;
  Envelope envelope;
  UniqueFd content;
  std::string buffer;
  util::Sha256 checksum;  // of everything written, recorded in the envelope at commit
  std::uint64_t bytes = 0;
  std::uint64_t unchecked_bytes = 0;
  std::uint64_t min_free = 0;
  bool open = true;
  // In a reused directory (SpareEntries): its files are overwritten from
  // the start and cut to length at commit, so no inode and, for a message
  // no larger than the last one, no block is allocated.
  bool reused = false;

  void discard() {
    open = false;
    content.reset();
    std::error_code ec;
    std::filesystem::remove_all(staging_dir, ec);
  }

  // Any failure closes the writer and removes its files: nothing
  // half-written is ever left behind for recovery to puzzle over.
  template <class T>
  SpoolResult<T> failed(SpoolFailure failure) {
    discard();
    return fail(std::move(failure));
  }

  SpoolResult<Ok> flush_buffer() {
    auto path = staging_dir / layout::kContent;
    auto written = fs_ops::write_all(content.get(), buffer, path);
    buffer.clear();
    return written;
  }
};

MessageWriter::MessageWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
MessageWriter::MessageWriter(MessageWriter&&) noexcept = default;
MessageWriter& MessageWriter::operator=(MessageWriter&& other) noexcept {
  if (this != &other) {
    abort();
    state_ = std::move(other.state_);
  }
  return *this;
}
MessageWriter::~MessageWriter() {
  abort();
}

const std::string& MessageWriter::id() const {
  return state_->id;
}

void MessageWriter::add_trace(TraceEvent event) {
  if (state_) state_->envelope.trace.push_back(std::move(event));
}

void MessageWriter::abort() {
  if (state_ && state_->open) state_->discard();
}

SpoolResult<Ok> MessageWriter::write(std::string_view chunk) {
  State& s = *state_;
  if (!s.open)
    return fail(SpoolFailure{SpoolError::writer_closed, "message " + s.id + " is closed"});
  s.buffer.append(chunk);
  s.checksum.update(chunk);
  s.bytes += chunk.size();
  s.unchecked_bytes += chunk.size();
  if (s.unchecked_bytes >= kSpaceCheckInterval) {
    s.unchecked_bytes = 0;
    if (auto space = check_free_space(s.root, s.min_free, 0); !space)
      return s.failed<Ok>(space.error());
  }
  if (s.buffer.size() >= kWriteBuffer) {
    if (auto flushed = s.flush_buffer(); !flushed) return s.failed<Ok>(flushed.error());
  }
  return Ok{};
}

SpoolResult<std::string> MessageWriter::commit() {
  State& s = *state_;
  if (!s.open)
    return fail(SpoolFailure{SpoolError::writer_closed, "message " + s.id + " is closed"});
  auto content_path = s.staging_dir / layout::kContent;
  if (auto r = s.flush_buffer(); !r) return s.failed<std::string>(r.error());
  if (s.reused && ::ftruncate(s.content.get(), static_cast<off_t>(s.bytes)) != 0)
    return s.failed<std::string>(fs_ops::os_failure(errno, "truncate", content_path));
  if (auto r = fs_ops::fsync_fd(s.content.get(), content_path); !r)
    return s.failed<std::string>(r.error());
  if (int err = s.content.reset(); err != 0)
    return s.failed<std::string>(fs_ops::os_failure(err, "close", content_path));
  s.envelope.content_size = s.bytes;
  s.envelope.content_sha256 = s.checksum.hex_digest();
  // Written in place, not through a temporary file: nothing reads staging/
  // but recovery, which purges it.
  auto envelope_path = s.staging_dir / layout::kEnvelope;
  UniqueFd envelope(::open(envelope_path.c_str(),
                           O_WRONLY | O_CREAT | (s.reused ? 0 : O_EXCL) | O_CLOEXEC, 0600));
  if (!envelope.valid())
    return s.failed<std::string>(fs_ops::os_failure(errno, "create", envelope_path));
  const std::string envelope_text = encode_envelope(s.envelope);
  if (auto r = fs_ops::write_all(envelope.get(), envelope_text, envelope_path); !r)
    return s.failed<std::string>(r.error());
  if (s.reused && ::ftruncate(envelope.get(), static_cast<off_t>(envelope_text.size())) != 0)
    return s.failed<std::string>(fs_ops::os_failure(errno, "truncate", envelope_path));
  if (auto r = fs_ops::fsync_fd(envelope.get(), envelope_path); !r)
    return s.failed<std::string>(r.error());
  if (int err = envelope.reset(); err != 0)
    return s.failed<std::string>(fs_ops::os_failure(err, "close", envelope_path));
  // The entries of both files in staging/<id>/, which moves as a whole.
  if (auto r = fs_ops::fsync_dir(s.staging_dir); !r) return s.failed<std::string>(r.error());
  auto incoming_dir = s.root / to_string(QueueState::incoming) / s.id;
  if (::rename(s.staging_dir.c_str(), incoming_dir.c_str()) != 0)
    return s.failed<std::string>(fs_ops::os_failure(errno, "rename", s.staging_dir));
  s.open = false;
  if (auto r = s.syncs->incoming.sync(); !r) {
    // The message is visible but not known to be durable; the client will
    // be told to retry, so take it back rather than deliver it twice.
    int err = 0;
    layout::discard(s.root, incoming_dir, err);
    return fail(r.error());
  }
  return s.id;
}

SpoolResult<MessageWriter> Spool::begin(Envelope envelope) const {
  if (auto space =
          check_free_space(root_, options_.min_free_bytes, envelope.params.size.value_or(0));
      !space)
    return fail(space.error());
  auto state = std::make_unique<MessageWriter::State>();
  state->root = root_;
  state->syncs = syncs_;
  state->min_free = options_.min_free_bytes;
  state->envelope = std::move(envelope);
  auto staging = root_ / layout::kStaging;
  std::optional<std::filesystem::path> spare;
  if (spares_) spare = spares_->take();
  for (int tries = 0;; ++tries) {
    state->id = make_queue_id(std::chrono::system_clock::now());
    state->staging_dir = staging / state->id;
    if (spare) {
      // Under the new message's name, as a fresh directory would be (never
      // over another writer's: RENAME_NOREPLACE).
      if (::renameat2(AT_FDCWD, spare->c_str(), AT_FDCWD, state->staging_dir.c_str(),
                      RENAME_NOREPLACE) == 0) {
        state->reused = true;
        break;
      }
      if (errno == EEXIST && tries < 8) continue;
      std::error_code ec;
      std::filesystem::remove_all(*spare, ec);
      spare.reset();
    }
    if (::mkdir(state->staging_dir.c_str(), 0700) == 0) break;
    if (errno != EEXIST || tries >= 8)
      return fail(fs_ops::os_failure(errno, "mkdir", state->staging_dir));
  }
  auto content_path = state->staging_dir / layout::kContent;
  state->content = UniqueFd(::open(
      content_path.c_str(), O_WRONLY | O_CREAT | (state->reused ? 0 : O_EXCL) | O_CLOEXEC, 0600));
  if (state->content.get() < 0) {
    auto failure = fs_ops::os_failure(errno, "create", content_path);
    state->discard();
    return fail(std::move(failure));
  }
  return MessageWriter(std::move(state));
}

SpoolResult<std::string> Spool::submit(Envelope envelope, std::string_view content) const {
  auto writer = begin(std::move(envelope));
  if (!writer) return fail(writer.error());
  if (auto written = writer->write(content); !written) return fail(written.error());
  return writer->commit();
}

}  // namespace cordon::queue
