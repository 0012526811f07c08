// EDM in text: candidates (digit runs, e-mail addresses, words and word
// sequences) normalised exactly as cells are, looked up in the index, and
// the hits grouped into rows whose fields lie near each other.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "detect/detail/edm_text.hpp"
#include "detect/edm.hpp"
#include "util/ascii.hpp"

namespace cordon::detect::edm {
namespace {

using namespace detail;

struct Span {
  std::size_t begin = 0, end = 0;
};

struct Common {
  Range range;
  Span span;
};

// Separators allowed between the digit groups of one number: one or two
// of these ("123-45-6789", "(555) 123-4567", "4111 1111 1111 1111").
bool is_digit_separator(unsigned char c) {
  return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
}

constexpr std::size_t kMaxGroups = 8;
constexpr std::size_t kMaxWordGap = 4;  // bytes between the words of one cell

class Finder {
 public:
  Finder(const Index& index, std::string_view text, const ScanOptions& options)
      : index_(index), text_(text), options_(options) {}

  std::vector<Hit> run() {
    candidates();
    resolve();  // the anchors, before the word scan looks around them
    if (index_.has_type(ColumnType::text) && index_.max_words() > 0 &&
        (options_.all_words || !anchors_.empty()))
      words();
    resolve();
    verify_common();
    return std::move(hits_);
  }

 private:
  const Index& index_;
  std::string_view text_;
  const ScanOptions& options_;
  std::vector<Hit> hits_;
  std::vector<Common> common_;
  std::vector<Span> emails_;          // skipped by the word scan (their words are not names)
  std::vector<std::size_t> anchors_;  // positions of digits and e-mail candidates
  std::string buf_;
  std::vector<Span> groups_, words_;  // reused by digit_run and words_in
  struct Candidate {
    std::uint64_t hash = 0;
    Span span;
    bool anchor = false;
  };
  static constexpr std::size_t kBatch = 256;
  std::vector<Candidate> pending_;
  std::vector<std::uint64_t> hashes_;
  std::vector<Range> ranges_;

  unsigned char at(std::size_t i) const { return static_cast<unsigned char>(text_[i]); }

  // `anchor`: a digits or e-mail candidate, whose hits are where the word
  // scan looks when it does not look everywhere. Looked up in batches
  // (Index::lookup of many), recorded by record().
  void look_up(std::string_view normalised, Span span, bool anchor = false) {
    pending_.push_back(Candidate{index_.hash(normalised), span, anchor});
    if (pending_.size() == kBatch) resolve();
  }

  void resolve() {
    hashes_.resize(pending_.size());
    ranges_.resize(pending_.size());
    for (std::size_t i = 0; i < pending_.size(); ++i) hashes_[i] = pending_[i].hash;
    index_.lookup(hashes_, ranges_);
    for (std::size_t i = 0; i < pending_.size(); ++i) record(pending_[i], ranges_[i]);
    pending_.clear();
  }

  void record(const Candidate& c, Range r) {
    if (r.size() == 0) return;
    if (c.anchor) anchors_.push_back(c.span.begin);
    if (r.size() > options_.common_rows) {
      common_.push_back(Common{r, c.span});
      return;
    }
    for (std::size_t e = r.begin; e < r.end; ++e)
      hits_.push_back(Hit{index_.row_at(e), index_.column_at(e), c.span.begin, c.span.end, false});
  }

  // Digit runs and e-mail addresses in one pass over the text: the pass
  // runs over all of every text, candidates are rare.
  void candidates() {
    const bool want_emails = index_.has_type(ColumnType::email);
    const bool want_digits = index_.has_type(ColumnType::digits);
    if (!want_emails && !want_digits) return;
    const std::size_t n = text_.size();
    for (std::size_t i = 0; i < n;) {
      if (want_digits) {
        i = util::find_digit_or(text_, i, want_emails ? '@' : '0');
      } else {
        i = text_.find('@', i);
        if (i == std::string_view::npos) break;
      }
      if (i >= n) break;
      if (text_[i] == '@') {
        email_at(i);
        ++i;
      } else {
        i = digit_run(i);
      }
    }
  }

  void email_at(std::size_t at_sign) {
    std::size_t b = at_sign;
    while (b > 0 && is_email_local(at(b - 1))) --b;
    std::size_t e = at_sign + 1;
    while (e < text_.size() && is_email_domain(at(e))) ++e;
    while (e > at_sign + 1 && (text_[e - 1] == '.' || text_[e - 1] == '-')) --e;
    while (b < at_sign && text_[b] == '.') ++b;
    if (b == at_sign || e == at_sign + 1) return;
    if (text_.substr(at_sign + 1, e - at_sign - 1).find('.') == std::string_view::npos) return;
    buf_.clear();
    append_lower(buf_, text_.substr(b, e - b));
    emails_.push_back(Span{b, e});
    look_up(buf_, Span{b, e}, true);
  }

  // The run of digit groups that starts at `i` (a digit), and each sub-run
  // of it, as one number; returns where the scan goes on.
  std::size_t digit_run(std::size_t i) {
    const std::size_t n = text_.size();
    if (i > 0 && is_alpha(at(i - 1))) {  // "abc123" is not a number
      while (i < n && is_digit(at(i))) ++i;
      return i;
    }
    auto& groups = groups_;
    groups.clear();
    std::size_t j = i;
    for (;;) {
      std::size_t g = j;
      while (j < n && is_digit(at(j))) ++j;
      groups.push_back(Span{g, j});
      std::size_t k = j;
      while (k < n && k - j < 2 && is_digit_separator(at(k))) ++k;
      if (k == j || k >= n || !is_digit(at(k)) || groups.size() == kMaxGroups) break;
      j = k;
    }
    bool glued = j < n && is_alpha(at(j));  // "123abc" is not a number
    if (!glued) {
      for (std::size_t a = 0; a < groups.size(); ++a) {
        buf_.clear();
        for (std::size_t z = a; z < groups.size(); ++z) {
          buf_.append(text_.substr(groups[z].begin, groups[z].end - groups[z].begin));
          if (buf_.size() > kMaxDigits) break;
          if (buf_.size() >= kMinDigits && index_.has_digit_length(buf_.size()))
            look_up(buf_, Span{groups[a].begin, groups[z].end}, true);
        }
      }
    }
    return j;
  }

  void words() {
    // Where to look: everywhere, or around the hits of digits and e-mail
    // candidates (merged windows).
    std::vector<Span> regions;
    if (options_.all_words) {
      regions.push_back(Span{0, text_.size()});
    } else {
      std::sort(anchors_.begin(), anchors_.end());
      for (std::size_t a : anchors_) {
        std::size_t b = a > options_.proximity ? a - options_.proximity : 0;
        std::size_t e = std::min(text_.size(), a + options_.proximity);
        while (b > 0 && is_word(at(b - 1))) --b;
        if (!regions.empty() && b <= regions.back().end)
          regions.back().end = std::max(regions.back().end, e);
        else
          regions.push_back(Span{b, e});
      }
    }
    for (const auto& r : regions) words_in(r);
  }

  void words_in(Span region) {
    // The words, outside e-mail addresses.
    auto& words = words_;
    words.clear();
    std::size_t next_email = 0;
    for (std::size_t i = region.begin; i < region.end;) {
      if (!is_word(at(i))) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < text_.size() && is_word(at(j))) ++j;
      while (next_email < emails_.size() && emails_[next_email].end <= i) ++next_email;
      bool in_email = next_email < emails_.size() && emails_[next_email].begin <= i;
      if (!in_email) words.push_back(Span{i, j});
      i = j;
    }
    const std::size_t max_words = index_.max_words();
    for (std::size_t w = 0; w < words.size(); ++w) {
      buf_.clear();
      for (std::size_t z = w; z < words.size() && z - w < max_words; ++z) {
        if (z > w) {
          if (words[z].begin - words[z - 1].end > kMaxWordGap) break;
          buf_.push_back(' ');
        }
        append_lower(buf_, text_.substr(words[z].begin, words[z].end - words[z].begin));
        if (index_.has_word_count(z - w + 1)) look_up(buf_, Span{words[w].begin, words[z].end});
      }
    }
  }

  // A common value counts for a row only beside a rare hit of that row.
  void verify_common() {
    if (common_.empty() || hits_.empty()) return;
    const std::size_t rare = hits_.size();
    std::unordered_set<std::uint64_t> added;
    for (const auto& c : common_)
      for (std::size_t h = 0; h < rare; ++h) {
        const Hit hit = hits_[h];
        std::size_t gap =
            c.span.begin > hit.begin ? c.span.begin - hit.begin : hit.begin - c.span.begin;
        if (gap > options_.proximity) continue;
        std::uint64_t key = (static_cast<std::uint64_t>(hit.row) << 32) ^ c.span.begin;
        if (added.count(key)) continue;
        std::uint32_t column = 0;
        if (!index_.contains_row(c.range, hit.row, &column)) continue;
        added.insert(key);
        hits_.push_back(Hit{hit.row, column, c.span.begin, c.span.end, true});
      }
  }
};

}  // namespace

std::vector<Hit> find_hits(const Index& index, std::string_view text, const ScanOptions& options) {
  return Finder(index, text, options).run();
}

std::vector<RowMatch> match_rows(std::span<const Hit> hits, std::size_t min_fields,
                                 std::uint64_t column_mask, std::size_t proximity) {
  std::vector<Hit> kept;
  for (const auto& h : hits)
    if (h.column < 64 && (column_mask >> h.column & 1)) kept.push_back(h);
  std::sort(kept.begin(), kept.end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.row, a.begin, a.column) < std::tie(b.row, b.begin, b.column);
  });
  std::vector<RowMatch> out;
  for (std::size_t first = 0; first < kept.size();) {
    std::size_t last = first;
    while (last < kept.size() && kept[last].row == kept[first].row) ++last;
    // Windows of fields beginning within `proximity` of the window's first.
    for (std::size_t i = first; i < last; ++i) {
      std::vector<Hit> fields;
      bool rare = false;
      for (std::size_t j = i; j < last && kept[j].begin <= kept[i].begin + proximity; ++j) {
        const Hit& h = kept[j];
        bool taken = std::any_of(fields.begin(), fields.end(), [&](const Hit& f) {
          return f.column == h.column || (h.begin < f.end && f.begin < h.end);
        });
        if (taken) continue;
        fields.push_back(h);
        rare = rare || !h.common;
      }
      if (fields.size() >= min_fields && rare) {
        out.push_back(RowMatch{kept[first].row, std::move(fields)});
        break;
      }
    }
    first = last;
  }
  return out;
}

}  // namespace cordon::detect::edm
