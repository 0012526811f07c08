// Differential test: the engine's credit_card identifier against a simple,
// independently written reference matcher (the published IIN table, Luhn,
// the groupings of docs/detection.md) over thousands of generated texts with
// planted card numbers in every separator style, digit runs and look-alikes.
// Both must report exactly the same spans.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::scan_ok;

using Spans = std::set<std::pair<std::size_t, std::size_t>>;

bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool word(char c) {
  return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
char at(const std::string& t, std::size_t i) {
  return i < t.size() ? t[i] : '\0';
}
char before(const std::string& t, std::size_t i, std::size_t n = 1) {
  return i >= n ? t[i - n] : '\0';
}

// --- Reference rules, written from the specification, not the engine. ---

bool reference_luhn(const std::string& d) {
  int sum = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    int v = d[d.size() - 1 - i] - '0';
    if (i % 2 == 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  return sum % 10 == 0;
}

// The published IIN ranges: prefix range (same number of digits) and the
// lengths allowed.
struct Iin {
  const char* low;
  const char* high;
  int min_len, max_len;
  std::vector<int> only;  // when not empty: exactly these lengths
};

const std::vector<Iin>& iin_table() {
  static const std::vector<Iin> table = {
      {"4", "4", 0, 0, {13, 16, 19}},
      {"51", "55", 16, 16, {}},
      {"2221", "2720", 16, 16, {}},
      {"34", "34", 15, 15, {}},
      {"37", "37", 15, 15, {}},
      {"6011", "6011", 16, 19, {}},
      {"644", "649", 16, 19, {}},
      {"65", "65", 16, 19, {}},
      {"622126", "622925", 16, 19, {}},
      {"3528", "3589", 16, 19, {}},
      {"300", "305", 14, 19, {}},
      {"3095", "3095", 14, 19, {}},
      {"36", "36", 14, 19, {}},
      {"38", "39", 14, 19, {}},
      {"62", "62", 14, 19, {}},
      {"5018", "5018", 12, 19, {}},
      {"5020", "5020", 12, 19, {}},
      {"5038", "5038", 12, 19, {}},
      {"5893", "5893", 12, 19, {}},
      {"6304", "6304", 12, 19, {}},
      {"6759", "6759", 12, 19, {}},
      {"6761", "6763", 12, 19, {}},
      {"676770", "676770", 12, 19, {}},
      {"676774", "676774", 12, 19, {}},
      {"5019", "5019", 16, 16, {}},
      {"4571", "4571", 16, 16, {}},
      {"2200", "2204", 16, 19, {}},
      {"1", "1", 15, 15, {}},
      {"506099", "506198", 0, 0, {16, 18, 19}},
      {"507865", "507964", 0, 0, {16, 18, 19}},
      {"650002", "650027", 0, 0, {16, 18, 19}},
      {"636", "636", 16, 19, {}},
      {"637", "639", 16, 16, {}},
      {"9792", "9792", 16, 16, {}},
      {"9860", "9860", 16, 16, {}},
      {"8600", "8600", 16, 16, {}},
      {"2205", "2205", 16, 16, {}},
      {"60400100", "60420099", 16, 19, {}},
      {"60", "60", 16, 16, {}},
      {"81", "82", 16, 16, {}},
      {"508", "508", 16, 16, {}},
      {"353", "353", 16, 16, {}},
      {"356", "356", 16, 16, {}},
      {"9891", "9891", 16, 16, {}},
      {"31", "31", 19, 19, {}},
  };
  return table;
}

bool reference_brand(const std::string& d) {
  const int n = static_cast<int>(d.size());
  for (const auto& r : iin_table()) {
    const std::string low = r.low, high = r.high;
    const std::string prefix = d.substr(0, low.size());
    if (prefix < low || prefix > high) continue;
    if (r.only.empty() ? (n >= r.min_len && n <= r.max_len)
                       : std::find(r.only.begin(), r.only.end(), n) != r.only.end())
      return true;
  }
  return false;
}

bool reference_valid(const std::string& d) {
  if (d.size() < 12 || d.size() > 19 || !reference_luhn(d) || !reference_brand(d)) return false;
  return !std::all_of(d.begin(), d.end() - 1, [&](char c) { return c == d[0]; });
}

bool four_digit_group_before(const std::string& t, std::size_t b) {
  // " dddd" directly before b, the group not longer than four digits
  if (before(t, b) != ' ' || b < 5) return false;
  for (std::size_t k = 2; k <= 5; ++k)
    if (!digit(before(t, b, k))) return false;
  return !digit(before(t, b, 6));
}

bool four_digit_group_after(const std::string& t, std::size_t e) {
  if (at(t, e) != ' ') return false;
  for (std::size_t k = 1; k <= 4; ++k)
    if (!digit(at(t, e + k))) return false;
  return !digit(at(t, e + 5)) && at(t, e + 5) != '/';
}

bool reference_context_ok(const std::string& t, std::size_t b, std::size_t e, char sep) {
  if (word(before(t, b)) || word(at(t, e))) return false;
  auto joint = [](char c) { return c == '.' || c == ',' || c == '-'; };
  if (sep == 0)
    return !(joint(before(t, b)) && digit(before(t, b, 2))) &&
           !(joint(at(t, e)) && digit(at(t, e + 1)));
  if (sep == '-' || sep == '.')
    return !(before(t, b) == sep && digit(before(t, b, 2))) &&
           !(at(t, e) == sep && digit(at(t, e + 1)));
  return !four_digit_group_before(t, b) && !four_digit_group_after(t, e);
}

// Group sizes of a separated reading: first 4, middle 4-8, last 1-8; a
// short last group right before "/digit" is an expiry month.
bool reference_grouping_ok(const std::vector<std::size_t>& groups, const std::string& t,
                           std::size_t e) {
  if (groups.size() < 2 || groups.size() > 5 || groups.front() != 4) return false;
  for (std::size_t g = 1; g + 1 < groups.size(); ++g)
    if (groups[g] < 4 || groups[g] > 8) return false;
  if (groups.back() > 8) return false;
  return !(groups.back() < 4 && at(t, e) == '/' && digit(at(t, e + 1)));
}

Spans reference_cards(const std::string& t) {
  std::vector<std::pair<std::size_t, std::size_t>> found;
  auto run_at = [&](std::size_t p) {
    std::size_t j = p;
    while (digit(at(t, j))) ++j;
    return j - p;
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!digit(t[i]) || word(before(t, i))) continue;
    // Plain run.
    const std::size_t first = run_at(i);
    if (first >= 12 && first <= 19 && reference_valid(t.substr(i, first)) &&
        reference_context_ok(t, i, i + first, 0))
      found.emplace_back(i, i + first);
    // Separated: walk the chain of digit groups joined by one separator.
    if (first != 4) continue;
    for (const char sep : {'-', ' ', '.'}) {
      std::vector<std::size_t> groups = {4};
      std::string digits = t.substr(i, 4);
      std::size_t p = i + 4;
      while (groups.size() < 5 && at(t, p) == sep && digit(at(t, p + 1))) {
        const std::size_t run = run_at(p + 1);
        if (run > 8) break;
        digits += t.substr(p + 1, run);
        groups.push_back(run);
        p += 1 + run;
        if (!word(at(t, p)) && reference_grouping_ok(groups, t, p) && reference_valid(digits) &&
            reference_context_ok(t, i, p, sep))
          found.emplace_back(i, p);
      }
    }
  }
  // Leftmost-longest, non-overlapping.
  std::sort(found.begin(), found.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  Spans out;
  std::size_t covered = 0;
  bool any = false;
  for (const auto& s : found) {
    if (any && s.first < covered) continue;
    out.insert(s);
    covered = s.second;
    any = true;
  }
  return out;
}

// --- Generator. ---

class TextGenerator {
 public:
  explicit TextGenerator(unsigned seed) : rng_(seed) {}

  std::string card_digits() {
    static const std::vector<std::pair<std::string, std::vector<int>>> kIssuers = {
        {"4", {13, 16, 19}},  {"51", {16}},       {"55", {16}},     {"2221", {16}},
        {"2720", {16}},       {"34", {15}},       {"37", {15}},     {"6011", {16, 19}},
        {"645", {16}},        {"65", {16, 18}},   {"3528", {16}},   {"3589", {17, 19}},
        {"300", {14}},        {"36", {14}},       {"38", {16}},     {"62", {14, 16, 19}},
        {"1", {15, 16}},      {"56", {16}},       {"2721", {16}},   {"5019", {16, 15}},
        {"4571", {16}},       {"6759", {12, 19}}, {"676770", {13}}, {"2200", {16, 19}},
        {"2205", {16, 17}},   {"622126", {16}},   {"9792", {16}},   {"6763", {18}},
        {"506099", {18, 17}}, {"60400100", {19}}, {"31", {19, 16}}, {"50", {16}}};
    const auto& [prefix, lengths] = kIssuers[pick(kIssuers.size())];
    const int length = lengths[pick(lengths.size())];
    std::string d = prefix;
    while (static_cast<int>(d.size()) < length - 1) d.push_back(static_cast<char>('0' + pick(10)));
    for (char check = '0'; check <= '9'; ++check) {
      if (reference_luhn(d + check)) {
        d.push_back(check);
        break;
      }
    }
    if (pick(8) == 0) d.back() = static_cast<char>('0' + (d.back() - '0' + 1) % 10);  // bad Luhn
    return d;
  }

  std::string formatted(const std::string& d) {
    const int style = static_cast<int>(pick(5));
    if (style == 0) return d;
    static const char kSeps[] = {'-', ' ', '.'};
    const char sep = kSeps[pick(3)];
    std::vector<int> groups;
    if (d.size() == 15 || d.size() == 14)
      groups = {4, 6, static_cast<int>(d.size()) - 10};
    else if (d.size() >= 16)
      groups = {4, 4, 4, 4, static_cast<int>(d.size()) - 16};
    else
      groups = {4, 4, static_cast<int>(d.size()) - 8};
    if (style == 3) groups = {2, 4, 4, 4, 4};  // unusual grouping
    if (style == 4) groups = {4, 8, 4, 3};     // irregular grouping
    std::string out;
    std::size_t p = 0;
    for (const int g : groups) {
      if (g == 0 || p >= d.size()) continue;
      if (!out.empty()) out.push_back(sep);
      out += d.substr(p, static_cast<std::size_t>(g));
      p += static_cast<std::size_t>(g);
    }
    out += d.substr(std::min(p, d.size()));
    return out;
  }

  std::string text() {
    static const std::vector<std::string> kWords = {"order", "card", "total", "ref", "x", "Visa",
                                                    "the",   "no.",  "id",    "€",   "ü"};
    static const std::vector<std::string> kGlue = {" ", " ", " ",  "\n", ", ", ". ", "-",  "/",
                                                   ":", "",  "  ", "(",  ")",  ".",  "/1", " 12/"};
    std::string out;
    const std::size_t tokens = 5 + pick(25);
    for (std::size_t i = 0; i < tokens; ++i) {
      out += kGlue[pick(kGlue.size())];
      switch (pick(5)) {
        case 0:
        case 1:
          out += formatted(card_digits());
          break;
        case 2: {
          const std::size_t n = 1 + pick(22);
          for (std::size_t k = 0; k < n; ++k) out.push_back(static_cast<char>('0' + pick(10)));
          break;
        }
        default:
          out += kWords[pick(kWords.size())];
      }
    }
    return out;
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  std::mt19937 rng_;
};

TEST(DetectCardDifferential, EngineAgreesWithReferenceMatcher) {
  auto db = testing::compile_ok({testing::identifier("credit_card", Confidence::low)});
  ASSERT_TRUE(db);
  Scanner scanner(db);
  TextGenerator gen(20240607);
  std::size_t total = 0, disagreements = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string text = gen.text();
    const Spans expected = reference_cards(text);
    Spans actual;
    for (const auto& rf : scan_ok(scanner, text))
      for (const auto& f : rf.findings) actual.emplace(f.begin, f.end);
    total += expected.size();
    if (actual != expected && ++disagreements <= 5) {
      std::string detail;
      for (const auto& [b, e] : expected)
        if (!actual.count({b, e})) detail += "\n  missed: [" + text.substr(b, e - b) + "]";
      for (const auto& [b, e] : actual)
        if (!expected.count({b, e})) detail += "\n  extra:  [" + text.substr(b, e - b) + "]";
      ADD_FAILURE() << "text: [" << text << "]" << detail;
    }
  }
  EXPECT_EQ(disagreements, 0u);
  // The generator must plant enough real cards for the comparison to mean something.
  EXPECT_GT(total, 4000u);
}

}  // namespace
}  // namespace cordon::detect
