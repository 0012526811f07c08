// Differential test: the engine's credit_card identifier against a simple,
// independently written reference matcher over thousands of generated texts
// with planted card numbers, digit runs and look-alikes. Both must report
// exactly the same spans.
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

bool reference_brand(const std::string& d) {
  const std::size_t n = d.size();
  const int p2 = std::stoi(d.substr(0, 2)), p3 = std::stoi(d.substr(0, 3)),
            p4 = std::stoi(d.substr(0, 4));
  const bool visa = d[0] == '4' && (n == 13 || n == 16 || n == 19);
  const bool mc = (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720);
  const bool amex = (p2 == 34 || p2 == 37) && n == 15;
  const bool disc = (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) && n >= 16;
  const bool jcb = p4 >= 3528 && p4 <= 3589 && n >= 16;
  const bool diners = ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38) && n >= 14;
  const bool union_pay = p2 == 62 && n >= 16;
  return visa || (mc && n == 16) || amex || disc || jcb || diners || union_pay;
}

bool reference_valid(const std::string& d) {
  if (d.size() < 13 || d.size() > 19 || !reference_luhn(d) || !reference_brand(d)) return false;
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
  if (sep == '-')
    return !(before(t, b) == '-' && digit(before(t, b, 2))) &&
           !(at(t, e) == '-' && digit(at(t, e + 1)));
  return !four_digit_group_before(t, b) && !four_digit_group_after(t, e);
}

Spans reference_cards(const std::string& t) {
  static const std::vector<std::vector<int>> kGroupings = {
      {4, 4, 4, 4}, {4, 4, 4, 4, 1}, {4, 4, 4, 4, 2}, {4, 4, 4, 4, 3}, {4, 6, 5}, {4, 6, 4}};
  std::vector<std::pair<std::size_t, std::size_t>> found;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!digit(t[i]) || word(before(t, i))) continue;
    // Plain run.
    std::size_t j = i;
    while (digit(at(t, j))) ++j;
    if (j - i >= 13 && j - i <= 19 && reference_valid(t.substr(i, j - i)) &&
        reference_context_ok(t, i, j, 0))
      found.emplace_back(i, j);
    // Grouped forms.
    for (const char sep : {'-', ' '}) {
      for (const auto& groups : kGroupings) {
        std::size_t p = i;
        std::string digits;
        bool ok = true;
        for (std::size_t g = 0; g < groups.size() && ok; ++g) {
          if (g > 0 && at(t, p++) != sep) ok = false;
          for (int k = 0; k < groups[g] && ok; ++k, ++p) {
            if (!digit(at(t, p)))
              ok = false;
            else
              digits.push_back(t[p]);
          }
        }
        if (ok && !word(at(t, p)) && reference_valid(digits) && reference_context_ok(t, i, p, sep))
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
        {"4", {13, 16, 19}}, {"51", {16}},   {"55", {16}},       {"2221", {16}}, {"2720", {16}},
        {"34", {15}},        {"37", {15}},   {"6011", {16, 19}}, {"645", {16}},  {"65", {16}},
        {"3528", {16}},      {"3589", {17}}, {"300", {14}},      {"36", {14}},   {"38", {16}},
        {"62", {16, 19}},    {"1", {16}},    {"56", {16}},       {"2721", {16}}};
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
    const int style = static_cast<int>(pick(4));
    if (style == 0) return d;
    const char sep = pick(2) ? '-' : ' ';
    std::vector<int> groups;
    if (d.size() == 15 || d.size() == 14)
      groups = {4, 6, static_cast<int>(d.size()) - 10};
    else if (d.size() >= 16)
      groups = {4, 4, 4, 4, static_cast<int>(d.size()) - 16};
    else
      return d;
    if (style == 3) groups = {2, 4, 4, 4, 4};  // unusual grouping
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
    static const std::vector<std::string> kGlue = {" ", " ", " ", "\n", ", ", ". ", "-",
                                                   "/", ":", "",  "  ", "(",  ")",  "."};
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
    for (const auto& rf : scanner.scan(text))
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
