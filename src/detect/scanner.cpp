// Scanner: one Vectorscan block scan per text, then post-processing of the
// raw matches (keyword word boundaries, identifier validation, supporting
// keyword proximity, overlap reduction). Buffers live in the Scanner and are
// reused, so a scan allocates little beyond its results.
#include <algorithm>
#include <limits>

#include "detect/database.hpp"
#include "detect/masking.hpp"
#include "detect/text.hpp"

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

// True when a supporting keyword hit lies within `proximity` bytes of
// [begin, end). `hits` is sorted by end offset.
bool supported(const std::vector<Span>& hits, std::size_t begin, std::size_t end,
               std::size_t proximity) {
  const std::size_t low = begin > proximity ? begin - proximity : 0;
  const std::size_t high = end + proximity;
  auto it = std::lower_bound(hits.begin(), hits.end(), low,
                             [](const Span& s, std::size_t v) { return s.end < v; });
  for (; it != hits.end(); ++it) {
    if (it->begin <= high) return true;
    // Keywords are short: past this point no hit can start early enough.
    if (it->end > high + 4096) break;
  }
  return false;
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
  std::string repaired;
  std::vector<RawMatch> raw;
  std::vector<std::size_t> last_regex_match;  // per expression id: index into raw
  std::vector<Candidate> candidates;
  std::vector<std::vector<Span>> support;      // per rule
  std::vector<std::vector<Finding>> findings;  // per rule

  static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned,
                      void* context) {
    auto& self = *static_cast<Impl*>(context);
    if (self.db->patterns[id].kind == PatternKind::regex) {
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
        case PatternKind::support:
          if (boundary_ok(text, span, info)) support[info.rule_index].push_back(span);
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
    for (auto& hits : support)
      std::sort(hits.begin(), hits.end(),
                [](const Span& a, const Span& b) { return a.end < b.end; });
    for (Candidate& c : candidates) {
      if (c.needs_support &&
          !supported(support[c.rule], c.match.begin, c.match.end, db->rules[c.rule].proximity))
        continue;
      findings[c.rule].push_back({c.match.begin, c.match.end, text::fnv1a64(c.match.normalised),
                                  std::move(c.match.masked)});
    }
  }

  std::vector<RuleFindings> scan(std::string_view input) {
    std::vector<RuleFindings> results;
    if (!db || !db->hs || !scratch) return results;
    std::string_view text = input;
    if (!text::is_valid_utf8(input)) {
      text::repair_utf8(input, repaired);
      text = repaired;
    }
    raw.clear();
    candidates.clear();
    std::fill(last_regex_match.begin(), last_regex_match.end(), kNone);
    for (auto& s : support) s.clear();
    for (auto& f : findings) f.clear();

    if (hs_scan(db->hs.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch.get(),
                &Impl::on_match, this) != HS_SUCCESS)
      return results;
    collect(text);
    for (std::size_t rule = 0; rule < findings.size(); ++rule) {
      if (findings[rule].empty()) continue;
      reduce_overlaps(findings[rule]);
      results.push_back({rule, std::move(findings[rule])});
      findings[rule] = {};
    }
    return results;
  }
};

Scanner::Scanner(std::shared_ptr<const Database> db) : impl_(std::make_unique<Impl>()) {
  impl_->db = std::move(db);
  if (!impl_->db) return;
  if (impl_->db->hs) {
    hs_scratch_t* scratch = nullptr;
    if (hs_alloc_scratch(impl_->db->hs.get(), &scratch) == HS_SUCCESS)
      impl_->scratch.reset(scratch);
  }
  impl_->last_regex_match.assign(impl_->db->patterns.size(), kNone);
  impl_->support.resize(impl_->db->rules.size());
  impl_->findings.resize(impl_->db->rules.size());
}

Scanner::~Scanner() = default;
Scanner::Scanner(Scanner&&) noexcept = default;
Scanner& Scanner::operator=(Scanner&&) noexcept = default;

std::vector<RuleFindings> Scanner::scan(std::string_view text) {
  return impl_->scan(text);
}

}  // namespace cordon::detect
