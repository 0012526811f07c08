// Reflect mode without a second copy of the content: when the inspected
// copy DLP sends back to the resubmission port is the original content of
// an active queue entry with header lines in front (DLP's stamp and trace
// headers, the X-Cordon-Queue-Id the gateway added), only those lines and
// the copy's envelope are written, into the original's entry
// (Spool::attach_inspected), instead of queueing the whole message again.
// A copy DLP changed (a tag, a removed part), or whose original is not
// waiting for DLP in this gateway, is queued whole, as before.
#pragma once

#include <string_view>

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

}  // namespace cordon::queue
