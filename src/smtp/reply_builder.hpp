// Block reply builder: merges the texts of every fired block rule into ONE
// RFC 5321-conformant multi-line SMTP reply (README, "The three behaviours", 1).
//
// The reply is what an upstream MTA sees when cordon blocks a message. A
// reply that breaks RFC 5321 (over-long lines, mixed codes, bare CR/LF in
// text, huge size) makes upstream MTAs answer "421 4.4.0 not RFC conformant"
// and resend the message for a day, so every limit here is enforced by
// construction, not by the caller's good behaviour.
//
// Shape of the reply (each line CRLF-terminated):
//   550-5.7.0 Incident ID: 1234                  <- always first, never dropped
//   550-5.7.0 <text of rule 1, word-wrapped>
//   550-5.7.0 <text of rule 2>
//   550 5.7.0 ... and 7 more violations           <- only when texts were left out
// The last line uses a space after the code, every other line a hyphen.
//
// Rules, in the order they are applied to each text:
//   1. Sanitising (ASCII only on the wire): CR, LF, TAB, VT and FF become a
//      space; other control characters (0x00-0x1F, 0x7F) are removed; each
//      well-formed UTF-8 sequence (one code point) becomes one '?'; each byte
//      >= 0x80 that is not part of a well-formed sequence becomes one '?'.
//   2. White-space folding: runs of spaces become one space, and leading and
//      trailing spaces are trimmed. A text that is empty afterwards is not
//      shown (it still counts as a violation when texts are left out).
//   3. De-duplication: a text equal to an earlier one, compared
//      case-INsensitively (ASCII), is not repeated; the first spelling wins.
//      Case is ignored because two rules saying "Contains card data" and
//      "contains card data" tell the sender the same thing twice.
//   4. Wrapping: words are packed greedily into lines of at most
//      max_line_bytes (prefix and CRLF included); a word longer than a line
//      is hard-split.
//   5. Size: texts are kept in order while the whole reply (including the
//      "... and N more violations" line when one is needed) fits in
//      max_reply_bytes. A text is shown whole or not at all, and once one
//      text does not fit, none after it is shown (order is preserved).
//      N counts fired rules (violations) whose text is not shown; a rule
//      whose text duplicates a shown text counts as shown.
//   6. No texts at all (or only empty ones) -> one generic text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace cordon::smtp {

struct BlockReplyOptions {
  int code = 550;                      // 4xx or 5xx, second digit 0-5 (RFC 5321 4.2.1)
  std::string enhanced = "5.7.0";      // RFC 3463 class.subject.detail, class = code's first digit
  std::size_t max_line_bytes = 512;    // per line, CRLF included; 64..512
  std::size_t max_reply_bytes = 1000;  // whole reply; >= min_reply_bytes(options)
};

enum class BlockReplyError {
  code_out_of_range,        // not a three-digit 4xx/5xx code with second digit 0-5
  enhanced_malformed,       // not class.subject.detail with 1-3 digit subject and detail
  enhanced_class_mismatch,  // enhanced class differs from the code's first digit
  line_limit_out_of_range,  // max_line_bytes outside [kMinLineBytes, kMaxLineBytes]
  reply_limit_too_small,    // max_reply_bytes cannot hold the incident line plus one line
};

inline constexpr std::size_t kMinLineBytes = 64;
inline constexpr std::size_t kMaxLineBytes = 512;  // RFC 5321 4.5.3.1.5

// A human-readable explanation of an error, for logs and check-config.
std::string_view describe(BlockReplyError error);

// Smallest max_reply_bytes accepted with these options: the incident line and
// the "... and N more violations" line, both sized for the largest id and N.
std::size_t min_reply_bytes(const BlockReplyOptions& options);

// Checks the options without building anything (the config loader calls
// this so that a bad block_reply section is reported at load time).
Status<BlockReplyError> validate(const BlockReplyOptions& options);

// Applies sanitising and white-space folding (rules 1 and 2 above) to one
// text. Exposed for tests and for places that log rule texts.
std::string sanitize_reply_text(std::string_view text);

// Builds the wire-ready reply, CRLF-terminated, ready to be written to the
// socket as is. `texts` holds one entry per fired block rule, in rule order.
Result<std::string, BlockReplyError> build_block_reply(std::span<const std::string> texts,
                                                       std::uint64_t incident_id,
                                                       const BlockReplyOptions& options = {});

// The same with the incident named by a reference instead of a number (an
// incident kept for a later write, or none recorded). The reference is
// sanitised like a text and cut to kMaxReferenceBytes, the room an id has.
Result<std::string, BlockReplyError> build_block_reply(std::span<const std::string> texts,
                                                       std::string_view incident_reference,
                                                       const BlockReplyOptions& options = {});

inline constexpr std::size_t kMaxReferenceBytes = 20;  // digits of the largest 64-bit id

// What a block reply names when no incident was recorded (offline scans, or
// the store and its outbox both failed): never a number nobody can look up.
inline constexpr std::string_view kNoIncidentReference = "not recorded";

// The text used when no rule supplied one.
inline constexpr std::string_view kGenericBlockText =
    "Message rejected by the data loss prevention policy.";

}  // namespace cordon::smtp
