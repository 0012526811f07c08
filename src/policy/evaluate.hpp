// Policy evaluation: a parsed message, its envelope and a compiled policy
// snapshot in, a verdict out. Pure: no I/O, no clock, no globals; the only
// mutable state is the caller's per-thread detect::Scanner.
//
// Semantics:
// - Every component of the message is scanned once against the snapshot's
//   one database; each policy then looks only at the components it names
//   (subject, body, headers, attachments, envelope; default all).
// - A rule holds when it matched at least min_count UNIQUE values (by the
//   detection engine's value hash) in one component (per_component, the
//   default) or across the message (per_message). A policy with `any`
//   fires when one rule holds, with `all` when every rule holds.
// - Exceptions: a policy does not fire when the envelope sender matches one
//   of its except.senders masks, nor when EVERY envelope recipient matches
//   one of its except.recipients masks (one recipient outside the list
//   keeps the policy in force; a message without recipients is never
//   excepted by recipient). Masks are L7-filter masks (address_mask.hpp).
// - Several fired policies: block beats redirect beats modify beats pass;
//   every fired policy is recorded, block texts and modify operations are
//   collected in policy order, the first redirect address wins. Hold ranks
//   between block and redirect (block > hold > redirect > modify > pass);
//   the first hold reason wins.
// - Attachment conditions (`- attachment: {types, names, min_size,
//   encrypted}`) hold when a file of the message's extract::Expansion
//   meets them; each counts as one rule for any/all. Without an expansion
//   (the message was not expanded) they never hold.
// - EDM conditions (`- edm: {profile, min_fields, columns, proximity}`)
//   hold when min_fields fields of one row of the profile's table are
//   found within proximity bytes of each other in one component
//   (detect::edm::match_rows); each counts as one rule for any/all, its
//   matches count rows, its samples show the fields masked.
// - IDM conditions (`- idm: {profile, min_percent}`) hold when at least
//   min_percent % of the fingerprints of one indexed document appear in
//   the components the policy looks at, taken together (body and every
//   attachment: an excerpt split across them still counts); each counts as
//   one rule, its matches count documents, its samples name each document
//   and its share ("board-paper.pdf 62%"): no indexed text is shown.
// - Extraction limits reached, when the expansion says on_limit:
//   violation, fire the built-in policy kLimitPolicy (severity high,
//   component "limit") which blocks; with on_limit: note they are only
//   problems of the message.
// - Content that could not be read (each mime::Problem whose kind
//   is_unscannable, except extraction limits, which on_limit governs) is a
//   finding of its own: with on_unscannable block (the default) or flag it
//   fires the built-in policy kUnscannablePolicy, one match per problem
//   (rule "unscannable:KIND", component where it is); block adds the
//   Unscannable reply naming what could not be read. Policy exceptions do
//   not apply to it: it is a property of the message, not of a policy.
// - A scan that fails (detect::ScanError) is an error, never a pass: the
//   caller defers the message.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detect.hpp"
#include "extract/extract.hpp"
#include "mime/mime.hpp"
#include "policy/model.hpp"
#include "policy/policy_set.hpp"

namespace cordon::policy {

struct Envelope {
  std::string sender;                   // MAIL FROM (may be empty: null sender)
  std::vector<std::string> recipients;  // every RCPT TO
  // The SMTP client (as forwarded by an MTA in front, if it did) and its
  // EHLO name: recorded with an incident; empty when unknown.
  std::string client_address{};
  std::string client_helo{};
};

enum class Action { pass, modify, redirect, hold, block };
std::string_view to_string(Action action);

struct RuleMatch {
  std::string rule;                  // "identifier:credit_card", "keywords", "regex:ACME-[0-9]{6}"
  std::string component;             // "subject", "body", "header", "attachment:NAME", "envelope"
  std::size_t count = 0;             // unique values matched in this component
  std::vector<std::string> samples;  // masked, at most kMaxSamples, one per unique value
  // Each sample in a few words of its text, masked (detect::masked_context);
  // empty for matches that are not findings in a text (conditions, limits).
  std::vector<std::string> contexts{};
};

struct FiredPolicy {
  std::string name;
  Severity severity = Severity::medium;  // after severity tiers
  std::vector<RuleMatch> matches;
};

struct ModifyOps {
  std::string subject_prefix;            // distinct prefixes, concatenated in policy order
  std::vector<std::string> add_headers;  // "Name: value", distinct, in policy order
  bool empty() const { return subject_prefix.empty() && add_headers.empty(); }
};

struct Verdict {
  Action action = Action::pass;
  std::vector<FiredPolicy> policies;     // every fired policy, in configuration order
  std::vector<std::string> block_texts;  // one per block response of a fired policy, in order
  ModifyOps modify;
  std::string redirect;  // the first redirect address of a fired policy
  std::string hold;      // the first hold reason of a fired policy
  // The message's header block and the start of its first body text, as
  // scanned, every finding masked (detect::masked_excerpt): the preview an
  // incident keeps. Empty when nothing was scanned.
  std::string headers{};
  std::string preview{};
  bool violated() const { return !policies.empty(); }
};

inline constexpr std::size_t kMaxSamples = 5;
inline constexpr std::string_view kUnscannablePolicy = "Unscannable content";
// How many unread places the unscannable reply names before "and N more".
inline constexpr std::size_t kMaxUnscannableNamed = 3;

// The detection engine could not scan a component.
struct EvaluationError {
  std::string component;  // the component whose scan failed
  detect::ScanError scan;
  std::string describe() const;
};
using Evaluation = Result<Verdict, EvaluationError>;

// The block text of `policy` for these problems (only unscannable ones are named).
std::string unscannable_reply(const Unscannable& policy, std::span<const mime::Problem> problems);
inline constexpr std::string_view kLimitPolicy = "Attachment inspection limits";
inline constexpr std::string_view kLimitBlockText =
    "Your message was not sent: an attachment could not be inspected completely (it exceeds an "
    "inspection limit).";

// `scanner` must have been made from set.database() (set.make_scanner()).
// `expansion`: what extract::expand found in `message` (optional).
Evaluation evaluate(const PolicySet& set, detect::Scanner& scanner, const mime::Message& message,
                    const Envelope& envelope, const extract::Expansion* expansion = nullptr);

// Holds a snapshot and the calling thread's scanner: one per worker
// thread or session. Handles a snapshot without rules (always passes).
class Evaluator {
 public:
  // `fault`: test-only fault injection for the scanner (detect::ScanFault).
  explicit Evaluator(std::shared_ptr<const PolicySet> set, detect::ScanFault fault = {});
  Evaluation evaluate(const mime::Message& message, const Envelope& envelope,
                      const extract::Expansion* expansion = nullptr);
  const std::shared_ptr<const PolicySet>& policy_set() const { return set_; }

 private:
  std::shared_ptr<const PolicySet> set_;
  std::optional<detect::Scanner> scanner_;
};

}  // namespace cordon::policy
