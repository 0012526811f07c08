// Reflect mode without a second copy of the content: when the inspected
// copy DLP sends back to the resubmission port is the original content of
// an active queue entry with header lines in front (DLP's stamp and trace
// headers, the X-Cordon-Queue-Id the gateway added), only those lines and
// the copy's envelope are written, into the original's entry
// (Spool::attach_inspected), instead of queueing the whole message again.
// A copy DLP changed (a tag, a removed part), or whose original is not
// waiting for DLP in this gateway, is queued whole, as before.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "queue/envelope.hpp"
#include "queue/spool.hpp"

namespace cordon::queue {

// True: kept in `original_id`'s entry (durable: the caller may answer 250).
// False: not applicable, queue the copy whole. An error: the write failed
// (nothing of it is left); the caller may still queue the copy whole.
// `inspected` is the copy's envelope; `received` the gateway's own Received
// header line(s) for it; `content` the copy as DLP sent it.
SpoolResult<bool> keep_inspected_in_place(const Spool& spool, std::string_view original_id,
                                          Envelope inspected, std::string_view received,
                                          std::string_view content);

// Where the inspected copy of each message in its DLP stage stands, for the
// gateway's queue manager (the attempt) and its resubmission listener (the
// copy), on one thread. An attempt opens its message before the DLP stage
// and closes it after; a copy may be kept in the entry only while it is
// open and none is kept yet.
class InPlaceCopies {
 public:
  void open(const std::string& id) { state_[id] = State::waiting; }
  // The copy of `id` may be written into its entry now (it is marked as
  // being written); false when the attempt is not waiting for one.
  bool begin(const std::string& id);
  // The write is over: kept, or not (then another copy may try).
  void end(const std::string& id, bool kept);
  // True while a copy of `id` is being written: close() must wait.
  bool writing(const std::string& id) const;
  // Forgets `id`; true when a copy was kept in its entry.
  bool close(const std::string& id);

 private:
  enum class State { waiting, writing, kept };
  std::unordered_map<std::string, State> state_;
};

// How a resubmitted copy was stored (store_inspected_copy).
struct StoredCopy {
  bool kept = false;     // in the original's entry (its queue id is the original's)
  std::string not_kept;  // why a copy that could be kept was not (an I/O error), else empty
  std::optional<SpoolResult<std::string>> queued;  // queued whole: its queue id, or why not
};

// Keeps `content` in `original_id`'s entry when `may_keep` and it can be,
// else queues it whole. `received(id)` is the gateway's Received header for
// the queue id the copy ends up under.
StoredCopy store_inspected_copy(const Spool& spool, const std::string& original_id, bool may_keep,
                                const Envelope& envelope,
                                const std::function<std::string(const std::string&)>& received,
                                std::string_view content);

}  // namespace cordon::queue
