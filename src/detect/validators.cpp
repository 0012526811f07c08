// Checksums and structural rules of the built-in data identifiers.
#include "detect/validators.hpp"

#include <array>
#include <cmath>
#include <string>

#include "detect/text.hpp"

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

struct IbanCountry {
  char code[3];
  unsigned char length;
};

// ISO 13616 registry lengths (SEPA and the commonly seen non-SEPA countries).
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
    {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
    {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
    {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31},
    {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
    {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

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

std::optional<CardBrand> card_brand(std::string_view digits) {
  if (!all_digits(digits) || digits.size() < 13 || digits.size() > 19) return std::nullopt;
  const std::size_t n = digits.size();
  const int p1 = digits_value(digits, 0, 1);
  const int p2 = digits_value(digits, 0, 2);
  const int p3 = digits_value(digits, 0, 3);
  const int p4 = digits_value(digits, 0, 4);
  if (p1 == 4 && (n == 13 || n == 16 || n == 19)) return CardBrand::visa;
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16)
    return CardBrand::mastercard;
  if ((p2 == 34 || p2 == 37) && n == 15) return CardBrand::amex;
  if ((p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) && n >= 16) return CardBrand::discover;
  if (p4 >= 3528 && p4 <= 3589 && n >= 16) return CardBrand::jcb;
  if (((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38) && n >= 14) return CardBrand::diners;
  if (p2 == 62 && n >= 16) return CardBrand::unionpay;
  return std::nullopt;
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
  // Published in advertising (wallet inserts, a 2000s identity-theft campaign).
  if (digits == "078051120" || digits == "219099999") return false;
  return true;
}

bool iban_valid(std::string_view compact) {
  if (compact.size() < 15 || compact.size() > 34) return false;
  if (!text::is_ascii_upper(compact[0]) || !text::is_ascii_upper(compact[1]) ||
      !text::is_ascii_digit(compact[2]) || !text::is_ascii_digit(compact[3]))
    return false;
  bool known = false;
  for (const auto& c : kIbanCountries) {
    if (compact[0] == c.code[0] && compact[1] == c.code[1]) {
      known = c.length == compact.size();
      break;
    }
  }
  if (!known) return false;
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
