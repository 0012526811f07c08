// Public interface of the detection engine: compiles every keyword list,
// regex and data identifier of a policy set into ONE Vectorscan database,
// scans a component's text once, and runs validators on candidate matches.
//
// Thread model (Vectorscan's): a Database is immutable and shared by all
// threads; each thread owns a Scanner (its scratch space).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace cordon::detect {

// Whole-word, case-insensitive, Unicode-aware keywords and phrases (white
// space inside a phrase matches any run of white space).
struct KeywordRule {
  std::vector<std::string> keywords;
};

// A Vectorscan-syntax regular expression (case-sensitive unless it says (?i)).
struct RegexRule {
  std::string pattern;
};

enum class Confidence { low, medium, high };

// A built-in data identifier: credit_card, us_ssn, iban, aba_routing,
// email_address, aws_access_key, private_key, generic_api_token, uk_nino,
// phone_number. Candidates are validated (Luhn, IIN, mod-97, ...).
struct IdentifierRule {
  std::string identifier;
  // high: every match needs a supporting keyword within `proximity` bytes
  // before or after it; medium: validator only, except forms too common to
  // trust alone (a plain 9-digit SSN, any ABA routing number), which need a
  // supporting keyword; low: validator only, never a keyword. Default
  // supporting keywords are built in per identifier; `support_keywords` adds
  // to them (whole word, case-insensitive, like KeywordRule).
  Confidence confidence = Confidence::medium;
  std::size_t proximity = 300;
  std::vector<std::string> support_keywords;
};

struct Rule {
  std::variant<KeywordRule, RegexRule, IdentifierRule> what;
};

enum class CompileErrorCode { unknown_identifier, bad_regex, bad_keyword, engine };
struct CompileError {
  CompileErrorCode code;
  std::size_t rule_index;  // index into the rules given to compile()
  std::string reason;      // human-readable, from Vectorscan where it says
};

// One validated occurrence. Offsets are byte offsets, half-open [begin, end),
// into the text that was scanned.
struct Finding {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::uint64_t value_hash = 0;  // hash of the normalised value (digits only for cards, ...)
  std::string masked;            // e.g. "4111********1111"; never the full secret
};

struct RuleFindings {
  std::size_t rule_index = 0;
  std::vector<Finding> findings;  // in text order, duplicates kept
};

class Database;  // compiled, immutable, shareable across threads

Result<std::shared_ptr<const Database>, CompileError> compile(const std::vector<Rule>& rules);

// As above; the compiled Vectorscan database is also cached in `cache_dir`
// (created if missing), in a file named by a SHA-256 of every pattern, its
// flags and order, the Vectorscan version and the CPU features. A later
// compile of the same set loads that file instead of compiling. A cache
// that cannot be read or written is ignored (compile still succeeds).
Result<std::shared_ptr<const Database>, CompileError> compile(
    const std::vector<Rule>& rules, const std::filesystem::path& cache_dir);

struct DatabaseInfo {
  std::size_t pattern_count = 0;  // Vectorscan expressions (keywords count one each)
  std::size_t bytes = 0;          // size of the compiled database
  bool loaded_from_cache = false;
  std::filesystem::path cache_file;  // empty without a cache directory
};
DatabaseInfo describe(const Database& db);

// The names compile() accepts in IdentifierRule::identifier.
const std::vector<std::string>& identifier_names();

// A scan that could not be completed. Never read as "no findings": the
// caller must not pass the text as clean.
enum class ScanErrorCode {
  no_scratch,  // the scratch space could not be allocated
  engine,      // hs_scan failed (other than a callback asking it to stop)
};
struct ScanError {
  ScanErrorCode code = ScanErrorCode::engine;
  std::string detail;
};

// Test-only fault injection: when set and it returns true for a text, the
// scan of that text fails as an engine error would, through the same error
// path. Production code never sets it (no configuration key reaches it).
using ScanFault = std::function<bool(std::string_view text)>;

// Per-thread scan state (Vectorscan scratch + reusable buffers).
class Scanner {
 public:
  explicit Scanner(std::shared_ptr<const Database> db, ScanFault fault = {});
  ~Scanner();
  Scanner(Scanner&&) noexcept;
  Scanner& operator=(Scanner&&) noexcept;

  // Scans one component's text; returns only rules that have findings, in
  // rule order. Within a rule, overlapping matches are reduced to the
  // leftmost-longest one. Text that is not valid UTF-8 is scanned with the
  // offending bytes read as '?' (offsets are unchanged). An error when the
  // engine could not scan the text (no scratch space, hs_scan failure).
  Result<std::vector<RuleFindings>, ScanError> scan(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Masks a matched value for display: keeps a few leading and trailing
// characters of long values, replaces the rest with '*' (16+ characters:
// first 4 and last 4; shorter: fewer kept; 4 or fewer: all masked).
std::string mask(std::string_view value);

// Finding `at` of `text` in its context, for an incident: at most about
// `width` bytes, whole words at the edges ("…" where the text goes on),
// white space folded to single spaces, `at` replaced by its mask and every
// other finding of `all` that reaches into the snippet masked too (one that
// crosses an edge ends the snippet before it). Never a secret in plain text.
inline constexpr std::size_t kContextWidth = 80;
std::string masked_context(std::string_view text, const Finding& at,
                           std::span<const RuleFindings> all, std::size_t width = kContextWidth);

// The start of `text`, at most `max_bytes` of it, every finding of `all` in
// it replaced by its mask as masked_context() does (overlapping findings
// masked as one) and a finding the cut would split left out whole. Lines
// are kept; never half a UTF-8 sequence. Never a secret in plain text.
std::string masked_excerpt(std::string_view text, std::span<const RuleFindings> all,
                           std::size_t max_bytes);

}  // namespace cordon::detect
