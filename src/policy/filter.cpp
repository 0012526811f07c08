// L7 filter parsing and evaluation; the rules are in filter.hpp.
#include "policy/filter.hpp"

#include <optional>

namespace cordon::policy {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct Entry {
  std::string_view text;  // trimmed
  std::size_t offset;     // of `text` (or of the empty slot) in the filter
};

FilterError make_error(FilterErrorCode code, std::size_t index, std::size_t offset,
                       std::string_view what) {
  std::string message = "mask " + std::to_string(index + 1) + " at column " +
                        std::to_string(offset + 1) + ": " + std::string(what);
  return {code, index, offset, std::move(message)};
}

// Splits at commas outside double quotes and trims each entry.
Result<std::vector<Entry>, FilterError> split_entries(std::string_view text) {
  std::vector<Entry> entries;
  std::size_t start = 0;
  bool quoted = false;
  std::size_t quote_at = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size()) {
      if (text[i] == '\\' && quoted) {
        ++i;  // quoted-pair: the next character is literal
        continue;
      }
      if (text[i] == '"') {
        quoted = !quoted;
        quote_at = i;
      }
      if (quoted || text[i] != ',') continue;
    }
    if (quoted)
      return fail(make_error(FilterErrorCode::unbalanced_quote, entries.size(), quote_at,
                             "a double quote is not closed"));
    std::size_t b = start, e = i;
    while (b < e && is_blank(text[b])) ++b;
    while (e > b && is_blank(text[e - 1])) --e;
    entries.push_back({text.substr(b, e - b), b});
    start = i + 1;
  }
  return entries;
}

// Checks one mask body (sign removed); returns the offset of the first bad
// character relative to `body`, if any.
std::optional<std::size_t> bad_character(std::string_view body) {
  if (body == "<>") return std::nullopt;
  bool quoted = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (quoted && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (c < 0x20 || c == 0x7F) return i;
    if (!quoted && (c == ' ' || c == '<' || c == '>')) return i;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(FilterAction action) {
  return action == FilterAction::inspect ? "inspect" : "ignore";
}

Result<Filter, FilterError> parse_filter(std::string_view text) {
  Filter filter;
  bool all_blank = true;
  for (char c : text) all_blank = all_blank && is_blank(c);
  if (all_blank) return filter;

  auto split = split_entries(text);
  if (!split) return fail(split.error());
  const std::vector<Entry>& entries = split.value();
  for (std::size_t index = 0; index < entries.size(); ++index) {
    const Entry& entry = entries[index];
    if (entry.text.empty())
      return fail(make_error(FilterErrorCode::empty_mask, index, entry.offset,
                             "empty mask (two commas in a row, or a leading or trailing comma)"));
    if (entry.text == "*") {
      if (index + 1 != entries.size())
        return fail(make_error(FilterErrorCode::lone_star_not_last, index, entry.offset,
                               "a lone * is only allowed as the last mask"));
      filter.ignore_unmatched = true;
      filter.star_index = index;
      continue;
    }
    FilterAction action = FilterAction::inspect;
    std::string_view body = entry.text;
    std::size_t body_offset = entry.offset;
    if (body.front() == '+' || body.front() == '-') {
      action = body.front() == '+' ? FilterAction::inspect : FilterAction::ignore;
      body.remove_prefix(1);
      ++body_offset;
      while (!body.empty() && is_blank(body.front())) {
        body.remove_prefix(1);
        ++body_offset;
      }
      if (body.empty())
        return fail(make_error(FilterErrorCode::sign_without_mask, index, entry.offset,
                               "a + or - sign needs a mask after it"));
    }
    if (auto bad = bad_character(body))
      return fail(make_error(FilterErrorCode::bad_character, index, body_offset + *bad,
                             "character not allowed in a mask"));
    filter.masks.push_back(
        {action, AddressMask(normalize_address(body)), std::string(entry.text), entry.offset});
  }
  return filter;
}

AddressDecision decide(const Filter& filter, std::string_view address) {
  AddressDecision d{
      normalize_address(address), FilterAction::inspect, DecidedBy::empty_filter, 0, {}};
  if (filter.empty()) return d;
  // Entries are numbered as written; the lone star, if any, is the last one.
  for (std::size_t i = 0; i < filter.masks.size(); ++i) {
    const FilterMask& m = filter.masks[i];
    if (m.mask.matches(d.address)) {
      d.action = m.action;
      d.decided_by = DecidedBy::mask;
      d.mask_index = i;
      d.mask_text = m.text;
      return d;
    }
  }
  if (filter.ignore_unmatched) {
    d.action = FilterAction::ignore;
    d.decided_by = DecidedBy::default_star;
    d.mask_index = filter.star_index;
    d.mask_text = "*";
  } else {
    d.decided_by = DecidedBy::no_mask_matched;
  }
  return d;
}

std::string explain(const AddressDecision& d) {
  std::string out(to_string(d.action));
  switch (d.decided_by) {
    case DecidedBy::mask:
      return out + " (mask " + std::to_string(d.mask_index + 1) + " \"" + d.mask_text + "\")";
    case DecidedBy::default_star:
      return out + " (no mask matched; final *, mask " + std::to_string(d.mask_index + 1) + ")";
    case DecidedBy::no_mask_matched:
      return out + " (no mask matched)";
    case DecidedBy::empty_filter:
      return out + " (empty filter)";
  }
  return out;
}

FilterDecision evaluate_filters(const Filter& sender_filter, const Filter& recipient_filter,
                                std::string_view sender, std::span<const std::string> recipients) {
  FilterDecision result{FilterAction::inspect,
                        FilterAction::inspect,
                        FilterAction::inspect,
                        decide(sender_filter, sender),
                        {}};
  result.sender_action = result.sender.action;
  bool any_inspected = recipients.empty();
  for (const std::string& rcpt : recipients) {
    result.recipients.push_back(decide(recipient_filter, rcpt));
    any_inspected = any_inspected || result.recipients.back().action == FilterAction::inspect;
  }
  result.recipients_action = any_inspected ? FilterAction::inspect : FilterAction::ignore;
  const bool both = result.sender_action == FilterAction::inspect &&
                    result.recipients_action == FilterAction::inspect;
  result.action = both ? FilterAction::inspect : FilterAction::ignore;
  return result;
}

}  // namespace cordon::policy
