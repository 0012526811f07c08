// The inspection pipeline, once for every caller (prevent, monitor,
// `cordon scan`, and later milter): loop stamp check, L7 filters, MIME parse,
// attachment expansion, policy evaluation, incident record, block reply,
// and the rewritten, stamped message to send on. No network I/O; the caller
// acts on the Inspection it returns.
//
// Threads: a Snapshot is immutable and shared by every thread and session
// that began under it; inspect() may run on any number of threads at once.
// Each thread borrows the snapshot's per-thread state (an evaluator with
// its Vectorscan scratch and an attachment extractor with its libmagic
// handle) for one message; at most one per concurrently inspecting thread
// is ever created, and they go when the snapshot goes.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "extract/extract.hpp"
#include "incidents/store.hpp"
#include "inspect/stamp.hpp"
#include "mime/mime.hpp"
#include "policy/evaluate.hpp"
#include "policy/policy_set.hpp"
#include "smtp/reply.hpp"
#include "smtp/reply_builder.hpp"
#include "util/result.hpp"

namespace cordon::inspect {

// What the pipeline needs, taken from the configuration by the caller's
// adapter (inspect/from_config.hpp).
struct InspectOptions {
  std::shared_ptr<const policy::PolicySet> policies;  // compiled; required
  mime::Limits mime;
  extract::Limits attachments;
  smtp::BlockReplyOptions block_reply;
  // L7 filters (README, "The three behaviours", 2); empty: every message is inspected.
  std::string sender_filter;
  std::string recipient_filter;
  // The monitor's pipeline: nothing is acted on, incidents record the
  // action "monitored" (what the verdict would have done is in the verdict).
  bool monitor_only = false;
  // Who stamps relayed messages and recognises its own stamp. None (offline
  // scans): no loop check and no stamp.
  std::optional<Deployment> deployment;
  // Test-only fault injection: scans of texts it returns true for fail as
  // an engine error would (detect::ScanFault). No configuration key sets
  // it; see scan_fault_from_environment().
  detect::ScanFault scan_fault;
};

// The fault the environment asks for, read by the caller once when it
// builds its options: CORDON_TEST_FAIL_SCAN=MARKER makes every scan of a
// text containing MARKER fail. For end-to-end tests of the failure path
// only; unset (the only production setting) it returns no fault.
detect::ScanFault scan_fault_from_environment();

// The per-configuration state derived from InspectOptions once and shared
// by the sessions that run under it.
class Snapshot;

// Parses the filters and checks the block reply options. The loader has
// validated both; if a filter does not parse anyway it is left empty
// (inspect everything) and bad reply options fall back to the defaults,
// each with an error in the log: failing open on inspection scope would
// leak data.
std::shared_ptr<const Snapshot> make_snapshot(InspectOptions options);

// Prepares the calling thread's inspection state now, so that a missing
// attachment extractor (libmagic) is reported before the first message
// rather than as a failure of each one.
Status<std::string> warm_up(const Snapshot& snapshot);

enum class Disposition {
  loop,         // already inspected by this deployment: relay unchanged
  ignored,      // the L7 filters exclude it: relay `outgoing` uninspected
  inspected,    // evaluated (or empty: nothing to inspect); see verdict
  unparsable,   // nothing could be inspected (a limit was exceeded): refuse
  failed,       // an internal error: defer
  scan_failed,  // the detection engine failed: defer (never a pass)
};

struct Inspection {
  Disposition disposition = Disposition::failed;
  policy::Verdict verdict;
  // Filter explanation, parse, extraction or store error, for the log.
  std::string detail;
  // How the L7 filters decided (inspected or ignored) and which masks did:
  // "sender inspect (empty filter); recipients inspect (mask 1 \"+*@x\")".
  std::string filter;
  // Set when mime::parse refused the message (disposition inspected for an
  // empty message, else unparsable or failed).
  std::optional<mime::ParseError> parse_error;
  // What could not be inspected and why; unscannable kinds are also
  // findings in the verdict (policy/evaluate.hpp).
  std::vector<mime::Problem> problems;
  std::string subject;
  std::string message_id;
  std::optional<incidents::RecordOutcome> incident;
  // What to relay when the message goes on; nullopt: the original bytes.
  std::optional<std::string> outgoing;
  // Wire form when the verdict is block (or hold); it names the incident: its id, the
  // outbox reference when the store could not take it, or "not recorded".
  std::string block_reply;
  std::chrono::duration<double> scan_time{0};  // parse, expand and evaluate
};

// Inspects one message. `envelope`: the SMTP envelope; nullopt when there
// is none (offline scans): then it is taken from the parsed headers (From
// is the sender; To, Cc and Bcc are the recipients) and the filters apply
// to that. `store` may be null: no incident is recorded. Never throws.
Inspection inspect(std::string_view message, const std::optional<policy::Envelope>& envelope,
                   const Snapshot& snapshot, incidents::IncidentStore* store);

// The answer to a message the inspection reached no verdict on, the same
// in every role that answers: unparsable -> 554 5.6.0 naming why; failed and
// scan_failed -> 451 4.3.0 (the sender retries; never a pass). nullopt for
// the other dispositions.
std::optional<smtp::Reply> refusal(const Inspection& result);

// One line for the log: the disposition, or the verdict with the fired
// policies and the incident (its id, outbox reference and repeat count).
std::string describe(const Inspection& result);

}  // namespace cordon::inspect
