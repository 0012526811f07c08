// Scanner: one Vectorscan block scan per text, then post-processing of the
// raw matches (keyword word boundaries, identifier validation, supporting
// keyword proximity, overlap reduction). Buffers live in the Scanner and are
// reused, so a scan allocates little beyond its results.
#include <algorithm>
#include <limits>
#include <string>

#include "detect/database.hpp"
#include "detect/detail/masking.hpp"
#include "detect/detail/text.hpp"

namespace cordon::detect {
namespace {

struct HsScratchDeleter {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};

struct RawMatch {
  std::uint32_t id;
  std::size_t from;
  std::size_t to;
};

struct Span {
  std::size_t begin;
  std::size_t end;
};

struct Candidate {
  std::uint32_t rule;
  bool needs_support;
  ValidatedMatch match;
};

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kKeywordSampleBytes = 64;

bool boundary_ok(std::string_view text, const Span& s, const PatternInfo& info) {
  if (info.check_left && text::is_word_code_point(text::code_point_before(text, s.begin)))
    return false;
  if (info.check_right && text::is_word_code_point(text::code_point_at(text, s.end))) return false;
  return true;
}

// Case- and spacing-insensitive form, so "Project  NEPTUNE" and
// "project neptune" are one value.
std::string normalise_keyword(std::string_view matched) {
  std::string out;
  out.reserve(matched.size());
  bool in_space = false;
  for (const char c : matched) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
    if (space) {
      if (!in_space) out.push_back(' ');
    } else {
      out.push_back(text::ascii_lower(c));
    }
    in_space = space;
  }
  return out;
}

// Leftmost-longest, non-overlapping: the reading a person would underline.
void reduce_overlaps(std::vector<Finding>& findings) {
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::size_t kept = 0;
  std::size_t covered_until = 0;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (kept > 0 && findings[i].begin < covered_until) continue;
    covered_until = findings[i].end;
    if (kept != i) findings[kept] = std::move(findings[i]);
    ++kept;
  }
  findings.resize(kept);
}

}  // namespace

struct Scanner::Impl {
  std::shared_ptr<const Database> db;
  std::unique_ptr<hs_scratch_t, HsScratchDeleter> scratch;
  ScanFault fault;
  bool support_failed = false;  // a support scan failed during this scan
  std::string repaired;
  std::string folded;
  text::FoldMap fold_map;  // folded offset -> offset in the scanned text
  std::vector<RawMatch> raw;
  std::vector<std::size_t> last_regex_match;  // per expression id: index into raw
  std::vector<Candidate> candidates;
  std::vector<std::vector<Finding>> findings;  // per rule

  static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned,
                      void* context) {
    auto& self = *static_cast<Impl*>(context);
    const PatternInfo& info = self.db->patterns[id];
    if (info.literal_length != 0) from = to - info.literal_length;
    if (info.start_width != 0) from = kNone;  // resolve_starts() finds it
    if (info.kind == PatternKind::regex) {
      // Vectorscan reports every end offset; for a regex only the longest
      // match from a given start matters, so extend instead of appending.
      std::size_t& last = self.last_regex_match[id];
      if (last != kNone && self.raw[last].from == from) {
        self.raw[last].to = to;
        return 0;
      }
      last = self.raw.size();
    }
    self.raw.push_back({id, static_cast<std::size_t>(from), static_cast<std::size_t>(to)});
    return 0;
  }

  struct SupportSearch {
    const Database* db;
    std::string_view text;
    std::size_t window_begin;
    std::uint32_t rule;
    bool found;
  };

  static int on_support(unsigned id, unsigned long long from, unsigned long long to, unsigned,
                        void* context) {
    auto& search = *static_cast<SupportSearch*>(context);
    const PatternInfo& info = search.db->support_patterns[id];
    if (info.rule_index != search.rule) return 0;
    const Span span{search.window_begin + static_cast<std::size_t>(from),
                    search.window_begin + static_cast<std::size_t>(to)};
    if (!boundary_ok(search.text, span, info)) return 0;
    search.found = true;
    return 1;  // one supporting keyword is enough: stop scanning
  }

  // True when a supporting keyword of `rule` lies entirely within
  // `proximity` bytes before or after [begin, end).
  bool supported(std::string_view text, std::uint32_t rule, std::size_t begin, std::size_t end) {
    if (!db->support_hs) return false;
    const std::size_t proximity = db->rules[rule].proximity;
    std::size_t low = begin > proximity ? begin - proximity : 0;
    std::size_t high = text.size() - end > proximity ? end + proximity : text.size();
    // Whole code points only: the support patterns are UTF-8 patterns.
    while (low > 0 && (static_cast<unsigned char>(text[low]) & 0xC0) == 0x80) --low;
    while (high < text.size() && (static_cast<unsigned char>(text[high]) & 0xC0) == 0x80) ++high;
    SupportSearch search{db.get(), text, low, rule, false};
    const hs_error_t rc =
        hs_scan(db->support_hs.get(), text.data() + low, static_cast<unsigned>(high - low), 0,
                scratch.get(), &Impl::on_support, &search);
    // on_support stops the scan itself once it found a keyword.
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) support_failed = true;
    return search.found;
  }

  struct StartSearch {
    std::uint32_t start_id;
    std::size_t end;  // relative to the window
    std::size_t start;
  };

  static int on_start(unsigned id, unsigned long long from, unsigned long long to, unsigned,
                      void* context) {
    auto& search = *static_cast<StartSearch*>(context);
    if (id == search.start_id && to == search.end)
      search.start = std::min(search.start, static_cast<std::size_t>(from));
    return 0;
  }

  // The leftmost start of each match whose expression was scanned without
  // start tracking: the same expression with it, over just the bytes such a
  // match can span, plus one byte each side for \b. What Vectorscan would
  // have reported with HS_FLAG_SOM_LEFTMOST in the main scan.
  bool resolve_starts(std::string_view text) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      RawMatch m = raw[i];
      if (m.from == kNone) {
        const PatternInfo& info = db->patterns[m.id];
        const std::size_t reach = std::size_t{info.start_width} + 1;
        const std::size_t begin = m.to > reach ? m.to - reach : 0;
        const std::size_t end = std::min(text.size(), m.to + 1);
        StartSearch search{info.start_id, m.to - begin, kNone};
        if (hs_scan(db->starts_hs.get(), text.data() + begin, static_cast<unsigned>(end - begin), 0,
                    scratch.get(), &Impl::on_start, &search) != HS_SUCCESS)
          return false;
        if (search.start == kNone) continue;  // cannot be: the same expression matched
        m.from = begin + search.start;
      }
      raw[kept++] = m;
    }
    raw.resize(kept);
    return true;
  }

  void collect(std::string_view text) {
    for (const RawMatch& m : raw) {
      const PatternInfo& info = db->patterns[m.id];
      const RuleInfo& rule = db->rules[info.rule_index];
      const Span span{m.from, m.to};
      const std::string_view matched = text.substr(m.from, m.to - m.from);
      switch (info.kind) {
        case PatternKind::keyword:
          if (!boundary_ok(text, span, info)) break;
          findings[info.rule_index].push_back(
              {m.from, m.to, text::fnv1a64(normalise_keyword(matched)),
               masking::truncate_utf8(matched, kKeywordSampleBytes)});
          break;
        case PatternKind::regex:
          findings[info.rule_index].push_back(
              {m.from, m.to, text::fnv1a64(matched), mask(matched)});
          break;
        case PatternKind::support:  // lives in the support database only
          break;
        case PatternKind::identifier:
          if (auto v = rule.identifier->validate(text, m.from, m.to)) {
            const bool needs_support = rule.confidence == Confidence::high ||
                                       (rule.confidence == Confidence::medium && v->weak);
            candidates.push_back({info.rule_index, needs_support, std::move(*v)});
          }
          break;
      }
    }
    for (Candidate& c : candidates) {
      if (c.needs_support && !supported(text, c.rule, c.match.begin, c.match.end)) continue;
      findings[c.rule].push_back({c.match.begin, c.match.end, text::fnv1a64(c.match.normalised),
                                  std::move(c.match.masked)});
    }
  }

  Result<std::vector<RuleFindings>, ScanError> scan(std::string_view input) {
    std::vector<RuleFindings> results;
    if (!db || db->units.empty()) return results;  // no rules: nothing to find
    if (!scratch) return fail(ScanError{ScanErrorCode::no_scratch, "no Vectorscan scratch space"});
    std::string_view text = input;
    const text::Utf8Check checked = text::check_utf8(input);
    if (!checked.valid) {
      text::repair_utf8(input, repaired);
      text = repaired;
    }
    // Matching runs on the folded text; findings are mapped back to the
    // code points they came from.
    const std::string_view unfolded = text;
    // Only non-ASCII code points fold: ASCII text is matched as it is.
    const bool is_folded = !checked.ascii && text::fold_for_matching(text, folded, fold_map);
    if (is_folded) text = folded;
    raw.clear();
    candidates.clear();
    std::fill(last_regex_match.begin(), last_regex_match.end(), kNone);
    for (auto& f : findings) f.clear();
    support_failed = false;

    // The folded spellings of literal keywords can only occur in text that
    // holds K (U+212A) or long s (U+017F).
    const bool spellings = db->folded_hs && !checked.ascii &&
                           (text.find("\xE2\x84\xAA") != std::string_view::npos ||
                            text.find("\xC5\xBF") != std::string_view::npos);
    for (std::size_t u = 0; u <= db->units.size(); ++u) {
      const hs_database_t* unit = u < db->units.size() ? db->units[u].get()
                                  : spellings          ? db->folded_hs.get()
                                                       : nullptr;
      if (!unit) continue;
      // on_match never stops the scan, so anything but success is a failure.
      hs_error_t rc = hs_scan(unit, text.data(), static_cast<unsigned>(text.size()), 0,
                              scratch.get(), &Impl::on_match, this);
      if (fault && fault(text)) rc = HS_UNKNOWN_ERROR;
      if (rc != HS_SUCCESS)
        return fail(ScanError{ScanErrorCode::engine, "hs_scan failed with " + std::to_string(rc)});
    }
    if (db->starts_hs && !resolve_starts(text))
      return fail(ScanError{ScanErrorCode::engine, "hs_scan of match starts failed"});
    collect(text);
    if (support_failed)
      return fail(ScanError{ScanErrorCode::engine, "hs_scan of supporting keywords failed"});
    for (std::size_t rule = 0; rule < findings.size(); ++rule) {
      if (findings[rule].empty()) continue;
      reduce_overlaps(findings[rule]);
      if (is_folded)
        for (Finding& f : findings[rule]) {
          f.end = fold_map.original_end(unfolded, f.end);
          f.begin = fold_map.original(f.begin);
        }
      results.push_back({rule, std::move(findings[rule])});
      findings[rule] = {};
    }
    return results;
  }
};

Scanner::Scanner(std::shared_ptr<const Database> db, ScanFault fault)
    : impl_(std::make_unique<Impl>()) {
  impl_->db = std::move(db);
  impl_->fault = std::move(fault);
  if (!impl_->db) return;
  // One scratch space serves every database (Vectorscan grows it to fit).
  hs_scratch_t* scratch = nullptr;
  bool ok = true;
  auto grow = [&](const hs_database_t* hs) {
    if (hs && hs_alloc_scratch(hs, &scratch) != HS_SUCCESS) ok = false;
  };
  for (const auto& unit : impl_->db->units) grow(unit.get());
  grow(impl_->db->folded_hs.get());
  grow(impl_->db->support_hs.get());
  grow(impl_->db->starts_hs.get());
  if (ok && scratch)
    impl_->scratch.reset(scratch);
  else if (scratch)
    hs_free_scratch(scratch);
  impl_->last_regex_match.assign(impl_->db->patterns.size(), kNone);
  impl_->findings.resize(impl_->db->rules.size());
}

Scanner::~Scanner() = default;
Scanner::Scanner(Scanner&&) noexcept = default;
Scanner& Scanner::operator=(Scanner&&) noexcept = default;

Result<std::vector<RuleFindings>, ScanError> Scanner::scan(std::string_view text) {
  return impl_->scan(text);
}

}  // namespace cordon::detect
