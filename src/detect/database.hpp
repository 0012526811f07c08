// The compiled form of a rule set: one Vectorscan database plus, for each
// Vectorscan expression id, which rule it serves and how its matches are
// post-processed. Immutable after compile(); shared by every Scanner.
// Internal to src/detect (the benchmark reaches the raw database through it).
#pragma once

#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "detect/detail/identifiers.hpp"
#include "detect/detect.hpp"

namespace cordon::detect {

enum class PatternKind : std::uint8_t { keyword, regex, identifier, support };

struct PatternInfo {
  PatternKind kind = PatternKind::keyword;
  std::uint32_t rule_index = 0;
  bool check_left = false;   // keyword/support: needs a word boundary before
  bool check_right = false;  // ... and after
  // Keywords compiled as literals: Vectorscan reports no start offset for
  // them (start-of-match tracking is what makes expressions slow), so the
  // start is the end less this length. 0: the start comes from Vectorscan.
  std::uint32_t literal_length = 0;
  // Compiled without start-of-match tracking although the start is needed
  // (a bounded identifier expression): the start is found afterwards by
  // scanning Database::starts_hs, expression `start_id`, over the at most
  // `start_width` bytes before the end (plus one byte of context each side).
  // 0: not so.
  std::uint32_t start_width = 0;
  std::uint32_t start_id = 0;
};

struct RuleInfo {
  const IdentifierSpec* identifier = nullptr;  // null for keyword and regex rules
  Confidence confidence = Confidence::medium;
  std::size_t proximity = 0;
};

struct HsDatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
using HsDatabasePtr = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;

class Database {
 public:
  // The text is scanned once per unit. Identifiers made only of character
  // classes (digits, capitals; no literal) are a unit of their own: mixed
  // with literal-led patterns they push Vectorscan onto engines several
  // times slower (measured 170 MB/s together against ~1.1 GB/s split).
  // Empty when the rule set has no patterns at all.
  std::vector<HsDatabasePtr> units;
  // Keywords that are plain ASCII words are caseless literals in the main
  // unit; their spellings with the non-ASCII code points that Unicode case
  // folding maps onto ASCII letters (K, long s) are this unit, scanned only
  // when the text holds one of those.
  HsDatabasePtr folded_hs;
  std::vector<PatternInfo> patterns;  // indexed by Vectorscan expression id, across units
  // Supporting keywords of identifier rules live in a second database that
  // is scanned only around candidates that need one: many are short common
  // words ("card", "bank") that would slow the main scan several-fold.
  HsDatabasePtr support_hs;
  std::vector<PatternInfo> support_patterns;
  // The bounded identifier expressions again, with HS_FLAG_SOM_LEFTMOST, by
  // start_id: scanned only over a few bytes before each of their (rare)
  // matches. Start-of-match tracking in the main scan costs Vectorscan
  // about as much as the whole rest of it for such digit patterns.
  HsDatabasePtr starts_hs;
  std::vector<RuleInfo> rules;  // indexed like the rules given to compile()
  DatabaseInfo info;
};

}  // namespace cordon::detect
