// Attempt results the spool could not write down: what keeps a full disk
// from stranding messages in active/.
//
// After an attempt the gateway saves the message's new envelope (attempts,
// recipient states, trace, next_attempt) and moves it active -> deferred
// (Spool::defer). Writing an envelope needs free space; a rename does not.
// So when the save fails (ENOSPC, EDQUOT, EFBIG, or another write error),
// keep() moves the message to deferred/ by a rename alone, with its
// previous envelope still on disk, and keeps the new one here, in memory.
// The message is then where every other tool looks for it: `cordon queue
// flush` moves it to incoming/ (a rename again), `hold`, `release` and
// `delete` act on it as on any other.
//
// At every scan the gateway calls due(), which first tries to write each
// kept envelope where its message now is (retry()), and then lists what is
// due with the kept envelopes in place of the stale ones on disk: a kept
// message is due when it is in incoming/ (flushed or released) or its kept
// next_attempt has come. claim() hands a kept envelope to the attempt that
// claims the message, so an attempt never starts from a stale envelope
// (which could deliver to a recipient twice).
//
// Durability is the spool's, unchanged: until a kept envelope is written,
// the disk holds the previous one, exactly what a crash before the save
// would have left; after a restart the message is retried from it
// (at-least-once, as after any crash). Internally synchronised: call it
// from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "queue/envelope.hpp"
#include "queue/spool.hpp"

namespace cordon::queue {

class UnsavedEnvelopes {
 public:
  explicit UnsavedEnvelopes(Spool spool) : spool_(std::move(spool)) {}

  // Spool::defer(id, envelope), and when that fails with anything but
  // not_found: the message goes active -> deferred by a rename and
  // `envelope` is kept. One log line when a message starts having its
  // envelope kept, one when it is saved at last, none in between (however
  // many attempts a flush brings meanwhile). Returns false only when the
  // message stays in active/ (even the rename failed; retried at every
  // scan like the envelope).
  bool defer(const std::string& id, const Envelope& envelope);

  // Spool::remove_finished(id), and forgets what is kept for it: the end
  // of an attempt that needs no retry.
  SpoolResult<Ok> remove(const std::string& id);

  // Writes every kept envelope it can; returns how many are still kept.
  // A message deleted meanwhile is forgotten; one held is saved in hold/;
  // one found in incoming/ (flushed) is saved with next_attempt now.
  std::size_t retry(TimePoint now);

  // retry(now), then Spool::due(now) with the kept envelopes overlaid.
  SpoolResult<std::vector<QueuedMessage>> due(TimePoint now);

  // Spool::activate(id), with the kept envelope (if any) in place of the
  // one on disk; the attempt owns it from then on, and ends with defer() or
  // remove().
  SpoolResult<QueuedMessage> claim(const std::string& id);

  // Messages whose latest envelope is not on disk (kept, or with the
  // attempt that claimed one).
  std::size_t size() const;

 private:
  struct Kept {
    std::optional<Envelope> envelope;  // empty while an attempt that claimed it owns it
    std::string reason;                // why the last save failed
  };

  Spool spool_;
  mutable std::mutex mutex_;
  std::map<std::string, Kept> kept_;
};

}  // namespace cordon::queue
