// The gateway's durable mail queue ("spool"), shaped after Postfix and
// OpenSMTPD: queue states are directories, and a message changes state by
// an atomic rename.
//
// Layout under <data_dir>/queue/:
//   staging/   being written (or being deleted); purged at start-up
//   incoming/  committed, waiting for its first (or a flushed) attempt
//   active/    claimed by a gateway worker right now
//   deferred/  waiting for its next_attempt
//   hold/      parked by an operator until released
//   corrupt/   found damaged (at start-up, by a scan or before an attempt);
//              kept for a human to look at, never attempted
//
// A message is a DIRECTORY named by its queue id holding two files:
// `content` (the message as received, never rewritten) and `envelope.json`
// (rewritten on every update). In reflect mode a third one may come:
// `inspected.json`, the envelope of the inspected copy DLP sent back, when
// that copy is the original content with header lines in front (the lines
// are kept in the envelope, the content is not written again); from then on
// it is the entry's envelope (attach_inspected). Why a directory and two files: envelope
// updates (trace, attempts, next_attempt) happen on every retry and must be
// crash-safe, i.e. written to a temporary file, fsynced and renamed; with
// one file that would copy the whole content (possibly tens of MB) each
// time. A directory keeps that cheap and still moves between states with ONE
// atomic rename, so a message is never half in one state and half in another.
//
// Commit protocol (begin/write/commit): content and envelope are written in
// staging/<id>/, both fsynced, the directory fsynced, staging/<id> renamed
// to incoming/<id>, and incoming/ fsynced. Only when commit() returns the
// id may the SMTP server answer 250. The fsync of incoming/ (and of
// deferred/ and hold/ after a move there) is a group commit: one fsync
// covers every message renamed in while the previous one ran, and nobody
// returns before an fsync that began after its own rename has completed
// (detail/group_sync.hpp). A claim (into active/) is not fsynced at all:
// if it is lost in a crash the message is found in its old state, which is
// what recovery would make of it anyway.
//
// Concurrency: every operation goes through the file system and Spool keeps
// no mutable state of its own (copies share only the group commit of each
// state directory, which coalesces fsyncs and decides nothing), so one
// Spool may be used from many threads, and
// `cordon queue` runs in another process at the same time. Renames are the
// only synchronisation: activate() claims a message by renaming it into
// active/ (exactly one claimant wins), and any operation that finds its
// message gone answers SpoolError::not_found, which callers must treat as
// "someone else moved it" (an operator's hold, delete or another worker).
// An operator may hold or delete a message a worker has active; if the
// worker had already delivered it, a later release delivers it again:
// delivery is at-least-once, never at-most-once.
//
// Integrity: the writer records the content's size and SHA-256 in the
// envelope at commit; read_checked() compares both before the content is
// handed to DLP or the next hop. A damaged entry (envelope unreadable,
// content missing, of the wrong size or with the wrong checksum) is
// quarantined ONCE: renamed into corrupt/ (so no scan finds it again), one
// log line, one on_quarantine call, and a small quarantine.json beside it
// saying why (best effort: the disk may be full). Envelopes written before
// checksums existed carry none and are checked by size alone.
//
// Only the gateway, at start-up and while no other gateway uses the same
// data_dir, may call recover(): it moves active/ back to incoming/, which
// would steal messages from a running gateway.
//
// The gateway rescans incoming/ and deferred/ periodically (every second),
// so `cordon queue flush`/`release` from another process take effect at the
// next scan. A scan must stay cheap with tens of thousands of deferred
// messages, so every envelope update also sets the envelope file's mtime to
// the envelope's next_attempt (as Postfix does with its queue files), and
// due() reads only the envelopes whose mtime says they are due.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.hpp"
#include "util/result.hpp"

namespace cordon::queue {

struct StateSyncs;
class SpareEntries;

enum class QueueState { incoming, active, deferred, hold };

std::string_view to_string(QueueState state);
std::optional<QueueState> queue_state_from_string(std::string_view text);

enum class SpoolError {
  no_space,       // below min_free, or the disk/quota filled up: answer 452 4.3.1
  io_error,       // any other file-system failure: answer 451 4.3.0
  not_found,      // no such message (in that state): it may have been moved by someone else
  corrupt,        // the envelope or content cannot be read back
  invalid_id,     // not a well-formed queue id (guards against path tricks from the CLI)
  invalid_state,  // the operation does not apply to the message's state (e.g. release of a
                  // message that is not on hold)
  writer_closed,  // write()/commit() after commit or after a failure
};

std::string_view to_string(SpoolError error);

struct SpoolFailure {
  SpoolError code;
  std::string detail;  // for logs: what failed and the OS reason
};

template <class T>
using SpoolResult = Result<T, SpoolFailure>;

// Why an entry was moved to corrupt/.
enum class Damage {
  envelope,         // envelope.json missing or not a valid envelope
  content_missing,  // the content file is gone
  content_size,     // the content is not as long as the envelope says (truncated, or grown)
  checksum,         // the content is not what was committed (SHA-256 mismatch)
  stray,            // not a queue entry at all (a file, or not named by a queue id)
};

// "envelope", "content-missing", "content-size", "checksum", "stray": the
// `reason` label of cordon_queue_quarantined_total and of `cordon queue list`.
std::string_view to_string(Damage damage);
std::optional<Damage> damage_from_string(std::string_view text);

// An entry of corrupt/, as `cordon queue list` shows it.
struct QuarantinedEntry {
  std::string name;                  // its name in corrupt/: the queue id, maybe with a suffix
  std::optional<Damage> damage;      // unknown when no quarantine record could be written
  std::string detail;                // what was found, for a human
  std::string from;                  // the state it was taken from, empty if unknown
  TimePoint time{};                  // when it was quarantined (else the entry's mtime)
  std::optional<Envelope> envelope;  // when its envelope is still readable
};

struct QueuedMessage {
  std::string id;
  QueueState state;
  Envelope envelope;
};

struct SpoolOptions {
  std::filesystem::path data_dir;
  // begin() and write() refuse with no_space when the file system holding
  // the queue would have less than this many bytes free.
  std::uint64_t min_free_bytes = 0;
  // Called once for each entry the spool moves to corrupt/ (after the move
  // and its log line), from whichever thread did it; the gateway counts
  // them. May be empty.
  std::function<void(Damage)> on_quarantine{};
  // How many emptied message directories remove_finished() keeps (under
  // staging/) for the next messages received to overwrite in place, instead
  // of freeing three inodes per message and allocating three more (see
  // detail/spare_entries.hpp). 0: none. Only for the one process that owns
  // the queue (the gateway): what a process keeps is purged at the next
  // start.
  std::size_t reuse_entries = 0;
};

struct RecoveryReport {
  std::size_t requeued_active = 0;  // active -> incoming
  std::size_t purged_staging = 0;   // uncommitted writes and half-done deletions removed
  std::size_t quarantined = 0;      // moved to corrupt/
};

// Streams a message's content; holds the file open, so it keeps working
// if the message is moved to another state meanwhile.
class ContentReader {
 public:
  ContentReader(ContentReader&&) noexcept;
  ContentReader& operator=(ContentReader&&) noexcept;
  ~ContentReader();
  // Reads up to buffer.size() bytes; 0 at the end.
  SpoolResult<std::size_t> read(std::span<char> buffer);

 private:
  friend class Spool;
  explicit ContentReader(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// One message being received. Destroying a writer that was not committed
// removes everything it wrote (RAII abort).
class MessageWriter {
 public:
  MessageWriter(MessageWriter&&) noexcept;
  MessageWriter& operator=(MessageWriter&&) noexcept;
  ~MessageWriter();

  // The queue id is fixed when writing begins, so that log lines about a
  // message still being received can already name it.
  const std::string& id() const;

  // Appends a chunk of content. After a failure the writer is closed and
  // its staging files are gone; the caller answers according to the error.
  SpoolResult<Ok> write(std::string_view chunk);

  // Makes the message durable in incoming/ and returns its queue id.
  SpoolResult<std::string> commit();

  // Adds an event to the envelope that commit() will write (saves a
  // second envelope write after the commit).
  void add_trace(TraceEvent event);

  // Discards the message now (also done by the destructor).
  void abort();

 private:
  friend class Spool;
  struct State;
  explicit MessageWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Spool {
 public:
  // Creates the state directories if needed. Does not recover.
  static SpoolResult<Spool> open(SpoolOptions options);

  const std::filesystem::path& root() const { return root_; }

  // Start-up recovery (see the file comment for who may call it).
  SpoolResult<RecoveryReport> recover() const;

  // Starts receiving a message; the envelope's content_size is filled in
  // at commit. Refuses with no_space when free space is below min_free
  // (taking a declared SIZE into account).
  SpoolResult<MessageWriter> begin(Envelope envelope) const;

  // begin + write + commit in one call, for a message the gateway makes
  // itself (a DSN); returns its queue id.
  SpoolResult<std::string> submit(Envelope envelope, std::string_view content) const;

  // Every readable message in incoming, active, deferred and hold, sorted
  // by id (i.e. arrival). Unreadable entries are skipped with a warning.
  SpoolResult<std::vector<QueuedMessage>> list() const;

  // Every entry of corrupt/, sorted by name. Read-only: nothing is moved.
  SpoolResult<std::vector<QuarantinedEntry>> list_corrupt() const;

  // How many messages are in `state` now: directory entries only, no
  // envelope is read (for the cordon_queue_messages gauge at each scan).
  SpoolResult<std::size_t> count(QueueState state) const;

  // Where a message is now.
  SpoolResult<QueuedMessage> find(std::string_view id) const;

  // Messages to work on: all of incoming/, and deferred/ whose
  // next_attempt <= now; oldest next_attempt first. A deferred message
  // whose envelope mtime is later than `now` is skipped without being read.
  // An entry whose envelope cannot be decoded is quarantined (so the next
  // scan does not find it again); one that cannot be read for another
  // reason (an I/O error, which may pass) is skipped with a warning.
  SpoolResult<std::vector<QueuedMessage>> due(TimePoint now) const;

  // Claims a message for work: renames it from incoming/ or deferred/ into
  // active/ and returns it. not_found when another worker or the CLI got
  // there first; corrupt (and quarantined) when its envelope is damaged.
  SpoolResult<QueuedMessage> activate(std::string_view id) const;

  // Rewrites the envelope of a message in `state` (crash-safe: temporary
  // file, fsync, rename, fsync) and sets the file's mtime to next_attempt.
  SpoolResult<Ok> update(std::string_view id, QueueState state, const Envelope& envelope) const;

  // Keeps the inspected copy of an active message in the message's own
  // entry instead of queueing a second copy of the content: `inspected` (its
  // content_prefix the header lines DLP added, its content_size and
  // content_sha256 those of the entry's content file) is written beside the
  // original envelope and fsynced with the directory, and is the entry's
  // envelope from then on (every load, update and read_checked uses it).
  // not_found when the message is not in active/; io_error (nothing
  // written) when the entry already holds an inspected copy.
  SpoolResult<Ok> attach_inspected(std::string_view id, const Envelope& inspected) const;

  // active -> incoming, the envelope left as it is (incoming/ is fsynced as
  // after any move there). For an entry whose inspected copy is now to be
  // delivered.
  SpoolResult<Ok> requeue(std::string_view id) const;

  // Appends `event` to the trace of a message in `state` (update() with
  // the envelope as it is now); not_found when it is elsewhere.
  SpoolResult<Ok> add_trace(std::string_view id, QueueState state, TraceEvent event) const;

  // Finishes an attempt that must be retried: stores `envelope` (with its
  // new attempts/next_attempt/trace) and moves the message active -> deferred.
  SpoolResult<Ok> defer(std::string_view id, const Envelope& envelope) const;

  // active -> deferred by a rename alone, the envelope left as it is: for
  // when defer() cannot write the new one (queue/unsaved.hpp).
  SpoolResult<Ok> defer_unchanged(std::string_view id) const;

  // Parks a message from any state; returns the state it was in.
  SpoolResult<QueueState> hold(std::string_view id, TimePoint now) const;

  // hold -> incoming. invalid_state if the message is not on hold.
  SpoolResult<Ok> release(std::string_view id, TimePoint now) const;

  // Removes a message from whatever state it is in, corrupt/ included
  // (atomically: a rename into staging/, then the files are deleted).
  SpoolResult<Ok> remove(std::string_view id) const;

  // Removes a message from active/ at the end of the attempt that claimed
  // it (delivered, bounced, or given up), when nothing else of this process
  // reads it any more: its directory may then be reused for a later message
  // (SpoolOptions::reuse_entries), once its removal from active/ is durable.
  // A message not in active/ (an operator moved it meanwhile) is removed as
  // remove() does.
  SpoolResult<Ok> remove_finished(std::string_view id) const;

  // Every deferred message -> incoming with next_attempt = now; returns how
  // many were moved.
  SpoolResult<std::size_t> flush(TimePoint now) const;

  // The content of `message` (as found in message.state, normally active),
  // checked against its envelope: the size, and the SHA-256 when the
  // envelope records one. Content that is missing or damaged is never
  // returned: the message is quarantined and `corrupt` answered. Other
  // failures (not_found: moved meanwhile; io_error) leave it where it is.
  SpoolResult<std::string> read_checked(const QueuedMessage& message) const;

  // Moves the entry `name` of `state`'s directory to corrupt/ with a record
  // of why; logs it and calls on_quarantine. not_found when it is gone.
  SpoolResult<Ok> quarantine(std::string_view name, QueueState state, Damage damage,
                             std::string_view detail) const;

  // The raw content, unchecked (tests and tools).
  SpoolResult<std::string> read_content(std::string_view id, QueueState state) const;
  SpoolResult<ContentReader> open_content(std::string_view id, QueueState state) const;

 private:
  explicit Spool(SpoolOptions options);
  std::filesystem::path state_dir(QueueState state) const;
  SpoolResult<QueuedMessage> load(std::string_view id, QueueState state) const;
  SpoolResult<Ok> rename_state(std::string_view id, QueueState from, QueueState to) const;
  SpoolResult<std::size_t> quarantine_unreadable(QueueState state) const;

  SpoolOptions options_;
  std::filesystem::path root_;
  std::shared_ptr<StateSyncs> syncs_;
  std::shared_ptr<SpareEntries> spares_;  // null unless options_.reuse_entries
};

}  // namespace cordon::queue
