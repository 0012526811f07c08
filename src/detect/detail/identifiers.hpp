// The built-in data identifiers: for each, the Vectorscan pattern that finds
// candidates, the validator that confirms a candidate (and normalises and
// masks it), and the supporting keywords used for proximity checks.
// Internal to src/detect; the table is immutable.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cordon::detect {

// A confirmed identifier occurrence, half-open byte offsets into the text.
struct ValidatedMatch {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string normalised;  // what the value hash is computed on
  std::string masked;      // display sample; never the full value
  // A form too common to trust alone (plain 9 digits for an SSN, any ABA
  // number): needs a supporting keyword unless the rule asks for low confidence.
  bool weak = false;
};

// Checks the candidate [begin, end) that the pattern reported in `text`;
// the result's offsets may differ from the candidate's.
using Validator = std::optional<ValidatedMatch> (*)(std::string_view text, std::size_t begin,
                                                    std::size_t end);

struct IdentifierSpec {
  std::string_view name;
  // Vectorscan expressions, compiled with HS_FLAG_SOM_LEFTMOST | extra_flags.
  // Every expression is bounded by \b or its validator checks maximality:
  // Vectorscan reports every end offset, the validator picks the real one.
  // Several expressions only where one would exceed Vectorscan's SOM limits.
  std::span<const std::string_view> expressions;
  unsigned extra_flags = 0;
  // False: compiled without HS_FLAG_SOM_LEFTMOST (whose start tracking is
  // expensive for some shapes); `begin` passed to the validator is then
  // meaningless and the validator finds the start from the end.
  bool vectorscan_start = true;
  std::span<const std::string_view> support_keywords;
  Validator validate = nullptr;
  // True for expressions with no literal factor (see Database::units).
  bool class_only = false;
};

std::span<const IdentifierSpec> identifier_specs();
const IdentifierSpec* find_identifier(std::string_view name);

}  // namespace cordon::detect
