// Checksums and structural rules of the built-in data identifiers.
#include "detect/validators.hpp"

#include <array>
#include <cmath>
#include <iterator>
#include <string>

#include "detect/detail/text.hpp"

namespace cordon::detect::validators {
namespace {

int digits_value(std::string_view digits, std::size_t pos, std::size_t count) {
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) v = v * 10 + (digits[i] - '0');
  return v;
}

bool all_digits(std::string_view s) {
  for (const char c : s)
    if (!text::is_ascii_digit(c)) return false;
  return !s.empty();
}

// Bit n set: n digits allowed.
constexpr std::uint32_t lengths(unsigned from, unsigned to) {
  std::uint32_t mask = 0;
  for (unsigned n = from; n <= to; ++n) mask |= 1u << n;
  return mask;
}
constexpr std::uint32_t length(unsigned n) {
  return 1u << n;
}

using B = CardBrand;

// Published IIN ranges and lengths. Left out on purpose: ranges that claim
// a whole two-digit block already known as "no card" look-alikes (GPN's 50,
// 56, 58), so a random 56... number stays no card.
constexpr IinRange kIinRanges[] = {
    {"4", "4", length(13) | length(16) | length(19), B::visa},
    {"51", "55", length(16), B::mastercard},
    {"2221", "2720", length(16), B::mastercard},
    {"34", "34", length(15), B::amex},
    {"37", "37", length(15), B::amex},
    {"6011", "6011", lengths(16, 19), B::discover},
    {"644", "649", lengths(16, 19), B::discover},
    {"65", "65", lengths(16, 19), B::discover},
    {"622126", "622925", lengths(16, 19), B::discover},
    {"3528", "3589", lengths(16, 19), B::jcb},
    {"300", "305", lengths(14, 19), B::diners},
    {"3095", "3095", lengths(14, 19), B::diners},
    {"36", "36", lengths(14, 19), B::diners},
    {"38", "39", lengths(14, 19), B::diners},
    {"62", "62", lengths(14, 19), B::unionpay},
    {"5018", "5018", lengths(12, 19), B::maestro},
    {"5020", "5020", lengths(12, 19), B::maestro},
    {"5038", "5038", lengths(12, 19), B::maestro},
    {"5893", "5893", lengths(12, 19), B::maestro},
    {"6304", "6304", lengths(12, 19), B::maestro},
    {"6759", "6759", lengths(12, 19), B::maestro},
    {"6761", "6763", lengths(12, 19), B::maestro},
    {"676770", "676770", lengths(12, 19), B::maestro},
    {"676774", "676774", lengths(12, 19), B::maestro},
    {"5019", "5019", length(16), B::dankort},
    {"4571", "4571", length(16), B::dankort},
    {"2200", "2204", lengths(16, 19), B::mir},
    {"1", "1", length(15), B::uatp},
    {"506099", "506198", length(16) | length(18) | length(19), B::verve},
    {"507865", "507964", length(16) | length(18) | length(19), B::verve},
    {"650002", "650027", length(16) | length(18) | length(19), B::verve},
    {"636", "636", lengths(16, 19), B::interpayment},
    {"637", "639", length(16), B::instapayment},
    {"9792", "9792", length(16), B::troy},
    {"9860", "9860", length(16), B::humo},
    {"8600", "8600", length(16), B::uzcard},
    {"2205", "2205", length(16), B::borica},
    {"60400100", "60420099", lengths(16, 19), B::ukrcard},
    {"60", "60", length(16), B::rupay},
    {"81", "82", length(16), B::rupay},
    {"508", "508", length(16), B::rupay},
    {"353", "353", length(16), B::rupay},
    {"356", "356", length(16), B::rupay},
    {"9891", "9891", length(16), B::dinacard},
    {"31", "31", length(19), B::t_union},
};

constexpr std::string_view kBrandNames[] = {
    "visa",         "mastercard",   "amex",     "discover", "jcb",    "diners",
    "unionpay",     "maestro",      "dankort",  "mir",      "uatp",   "verve",
    "interpayment", "instapayment", "troy",     "humo",     "uzcard", "borica",
    "ukrcard",      "rupay",        "dinacard", "t_union"};
static_assert(std::size(kBrandNames) == static_cast<std::size_t>(CardBrand::t_union) + 1);

bool is_class(char c, char cls) {
  switch (cls) {
    case 'n':
      return text::is_ascii_digit(c);
    case 'a':
      return text::is_ascii_upper(c);
    case 'c':
      return text::is_ascii_digit(c) || text::is_ascii_upper(c);
  }
  return false;
}

// Calls f(count, class) for each field of a registry BBAN notation.
template <typename F>
bool for_each_field(std::string_view spec, F&& f) {
  std::size_t i = 0;
  while (i < spec.size()) {
    unsigned count = 0;
    while (i < spec.size() && text::is_ascii_digit(spec[i]))
      count = count * 10 + static_cast<unsigned>(spec[i++] - '0');
    if (count == 0 || i + 1 >= spec.size() || spec[i] != '!') return false;
    f(count, spec[i + 1]);
    i += 2;
  }
  return true;
}

}  // namespace

bool luhn_valid(std::string_view digits) {
  if (!all_digits(digits)) return false;
  int sum = 0;
  bool double_it = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

std::string_view brand_name(CardBrand brand) {
  return kBrandNames[static_cast<std::size_t>(brand)];
}

std::span<const IinRange> iin_ranges() {
  return kIinRanges;
}

std::optional<CardBrand> card_brand(std::string_view digits) {
  if (!all_digits(digits) || digits.size() < 12 || digits.size() > 19) return std::nullopt;
  std::optional<CardBrand> best;
  std::size_t best_prefix = 0;
  for (const auto& r : kIinRanges) {
    const std::string_view prefix = digits.substr(0, r.low.size());
    if (r.low.size() <= best_prefix || !(r.lengths & (1u << digits.size()))) continue;
    if (prefix >= r.low && prefix <= r.high) {
      best = r.brand;
      best_prefix = r.low.size();
    }
  }
  return best;
}

bool card_number_valid(std::string_view digits) {
  if (!luhn_valid(digits) || !card_brand(digits)) return false;
  const std::string_view payload = digits.substr(0, digits.size() - 1);
  return payload.find_first_not_of(payload[0]) != std::string_view::npos;
}

bool ssn_valid(std::string_view digits) {
  if (digits.size() != 9 || !all_digits(digits)) return false;
  const int area = digits_value(digits, 0, 3);
  const int group = digits_value(digits, 3, 2);
  const int serial = digits_value(digits, 5, 4);
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
  // Published in advertising (a wallet insert, a 2000s identity-theft
  // campaign) or in an SSA example: the same list as python-stdnum.
  if (digits == "078051120" || digits == "457555462" || digits == "219099999") return false;
  return true;
}

const IbanCountry* iban_country(std::string_view code) {
  if (code.size() != 2) return nullptr;
  for (const auto& c : iban_registry())
    if (code[0] == c.code[0] && code[1] == c.code[1]) return &c;
  return nullptr;
}

BbanFields bban_fields(const IbanCountry& country) {
  BbanFields out;
  for_each_field(country.bban, [&](unsigned count, char) {
    if (out.count < std::size(out.length))
      out.length[out.count++] = static_cast<unsigned char>(count);
  });
  return out;
}

bool bban_matches(const IbanCountry& country, std::string_view bban) {
  std::size_t pos = 0;
  bool ok = true;
  const bool parsed = for_each_field(country.bban, [&](unsigned count, char cls) {
    for (unsigned k = 0; k < count && ok; ++k, ++pos)
      ok = pos < bban.size() && is_class(bban[pos], cls);
  });
  return parsed && ok && pos == bban.size();
}

bool iban_valid(std::string_view compact) {
  if (compact.size() < 5 || compact.size() > 34) return false;
  if (!text::is_ascii_digit(compact[2]) || !text::is_ascii_digit(compact[3])) return false;
  const IbanCountry* country = iban_country(compact.substr(0, 2));
  if (!country || country->length != compact.size()) return false;
  if (!bban_matches(*country, compact.substr(4))) return false;
  // Move the first four characters to the end, letters become 10..35, and
  // reduce mod 97 as we go.
  int remainder = 0;
  for (std::size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[(i + 4) % compact.size()];
    if (text::is_ascii_digit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (text::is_ascii_upper(c)) {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

bool aba_routing_valid(std::string_view digits) {
  if (digits.size() != 9 || !all_digits(digits)) return false;
  const int prefix = digits_value(digits, 0, 2);
  const bool known_prefix = prefix <= 12 || (prefix >= 21 && prefix <= 32) ||
                            (prefix >= 61 && prefix <= 72) || prefix == 80;
  if (!known_prefix) return false;
  static constexpr std::array<int, 3> kWeights = {3, 7, 1};
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i) sum += (digits[i] - '0') * kWeights[i % 3];
  return sum % 10 == 0;
}

bool uk_nino_valid(std::string_view compact) {
  if (compact.size() != 9) return false;
  const char a = compact[0], b = compact[1], suffix = compact[8];
  if (!text::is_ascii_upper(a) || !text::is_ascii_upper(b)) return false;
  if (std::string_view("DFIQUV").find(a) != std::string_view::npos) return false;
  if (std::string_view("DFIOQUV").find(b) != std::string_view::npos) return false;
  static constexpr std::string_view kNotAllocated[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
  for (const auto p : kNotAllocated)
    if (compact.substr(0, 2) == p) return false;
  if (!all_digits(compact.substr(2, 6))) return false;
  return suffix >= 'A' && suffix <= 'D';
}

double shannon_entropy(std::string_view value) {
  if (value.empty()) return 0.0;
  std::array<std::size_t, 256> counts{};
  for (const char c : value) ++counts[static_cast<unsigned char>(c)];
  double bits = 0.0;
  const double n = static_cast<double>(value.size());
  for (const std::size_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / n;
    bits -= p * std::log2(p);
  }
  return bits;
}

}  // namespace cordon::detect::validators
