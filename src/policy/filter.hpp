// L7 sender and recipient filters (README, "The three behaviours", 2): decide whether a
// message is inspected at all, from its envelope sender and recipients.
//
// A filter is a comma-separated list of masks, read left to right:
//   `+mask` or `mask`  an address matching it is inspected
//   `-mask`            an address matching it is ignored
//   `*` (lone, last)   an address that matched no mask is ignored
// The first matching mask decides; with no match (and no final `*`) the
// address is inspected. An empty (or all-blank) filter inspects everything.
// Sender: the sender's decision. Recipients: ignored only when EVERY
// recipient is ignored. Message: inspected only when both say inspect.
//
// Syntax accepted in a mask: printable ASCII except white space, `<`, `>`
// and `,` (bytes >= 0x80 pass through for UTF-8 addresses); white space
// and commas only inside a double-quoted local part (`"john doe"@x`). The
// mask `<>` matches the null sender. A lone `*` anywhere but last, an empty
// mask (`a,,b`, a trailing comma), a sign with nothing after it, an
// unbalanced quote or a bad character is a parse error naming the mask and
// its byte offset.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/address_mask.hpp"
#include "util/result.hpp"

namespace cordon::policy {

enum class FilterAction { inspect, ignore };

std::string_view to_string(FilterAction action);  // "inspect" / "ignore"

struct FilterMask {
  FilterAction action;
  AddressMask mask;    // the pattern without its sign, normalised
  std::string text;    // as written, sign included, trimmed (for messages)
  std::size_t offset;  // byte offset of `text` in the filter string
};

struct Filter {
  std::vector<FilterMask> masks;
  bool ignore_unmatched = false;  // the filter ends with a lone `*`
  std::size_t star_index = 0;     // index of that `*` among the filter's entries
  bool empty() const { return masks.empty() && !ignore_unmatched; }
};

enum class FilterErrorCode {
  empty_mask,          // nothing between two commas, or a leading/trailing comma
  lone_star_not_last,  // a lone `*` that is not the last entry
  sign_without_mask,   // `+` or `-` alone
  unbalanced_quote,    // a `"` with no closing `"`
  bad_character,       // white space, control character, `<` or `>` in a mask
};

struct FilterError {
  FilterErrorCode code;
  std::size_t mask_index;  // 0-based entry index
  std::size_t offset;      // 0-based byte offset of the offending character or mask
  std::string message;     // for humans: says "mask N" and "column C" (both 1-based)
};

Result<Filter, FilterError> parse_filter(std::string_view text);

enum class DecidedBy {
  mask,             // `mask_index` / `mask_text` matched
  default_star,     // no mask matched; the final `*` ignores it
  no_mask_matched,  // no mask matched; inspected by default
  empty_filter,     // the filter is empty: inspect everything
};

struct AddressDecision {
  std::string address;  // normalised (see normalize_address)
  FilterAction action;
  DecidedBy decided_by;
  std::size_t mask_index = 0;  // entry index when decided_by is mask or default_star
  std::string mask_text;       // the entry as written, for the same cases
};

// One address against one filter: the first matching mask decides.
AddressDecision decide(const Filter& filter, std::string_view address);

// "inspect (mask 1 \"+bob@test1.com\")", "ignore (default *)", ... (1-based).
std::string explain(const AddressDecision& decision);

struct FilterDecision {
  FilterAction action;  // the message: inspect only if both below inspect
  FilterAction sender_action;
  FilterAction recipients_action;  // ignore only if every recipient is ignored
  AddressDecision sender;
  std::vector<AddressDecision> recipients;
};

// A message with no recipients at all counts as inspected on the recipient
// side: skipping inspection must always be the result of a matching rule.
FilterDecision evaluate_filters(const Filter& sender_filter, const Filter& recipient_filter,
                                std::string_view sender, std::span<const std::string> recipients);

}  // namespace cordon::policy
