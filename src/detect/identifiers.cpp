// Built-in data identifiers: candidate patterns, validators, masks and
// supporting keywords. Design notes:
// - Numbers must stand alone: a candidate inside a longer digit run, or
//   continued by another group with the same separator ("4111-1111-1111-
//   1111-2222"), is part of a different number and is rejected.
// - Card numbers, SSNs, ABA numbers, IBANs and NINOs hash on their compact
//   form (digits, upper case), so every formatting of one value is one
//   unique value.
// - The patterns are loose about grouping (Vectorscan finds candidates);
//   the validators decide which groupings are real (see docs/detection.md).
// - ABA routing numbers always need a supporting keyword (at medium
//   confidence): one random 9-digit number in ~30 passes prefix + checksum.
// - A plain 9-digit SSN (no separators) likewise needs a keyword.
#include "detect/detail/identifiers.hpp"

#include <hs/hs.h>

#include <array>
#include <vector>

#include "detect/key_formats.hpp"
#include "detect/detail/masking.hpp"
#include "detect/detail/text.hpp"
#include "detect/validators.hpp"

namespace cordon::detect {
namespace {

using text::at;
using text::before;
using text::is_ascii_digit;

struct DigitsAndSeparator {
  std::string digits;
  char separator = 0;  // 0 when the candidate is digits only
};

DigitsAndSeparator split_digits(std::string_view t, std::size_t b, std::size_t e) {
  DigitsAndSeparator out;
  out.digits.reserve(e - b);
  for (std::size_t i = b; i < e; ++i) {
    if (is_ascii_digit(t[i]))
      out.digits.push_back(t[i]);
    else
      out.separator = t[i];
  }
  return out;
}

bool is_decimal_joint(char c) {
  return c == '.' || c == ',' || c == '-';
}

// A plain digit run [b, e) (already bounded by \b) continues as "12.34",
// "1,234" or "12-34" on either side: part of a larger number.
bool plain_number_continues(std::string_view t, std::size_t b, std::size_t e) {
  return (is_decimal_joint(before(t, b)) && is_ascii_digit(before(t, b, 2))) ||
         (is_decimal_joint(at(t, e)) && is_ascii_digit(at(t, e + 1)));
}

// True when exactly `count` digits start at `pos` and are not followed by
// another digit.
bool digit_group_at(std::string_view t, std::size_t pos, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i)
    if (!is_ascii_digit(at(t, pos + i))) return false;
  return !is_ascii_digit(at(t, pos + count));
}

bool digit_group_ending_at(std::string_view t, std::size_t end, std::size_t count) {
  if (end < count) return false;
  for (std::size_t i = 1; i <= count; ++i)
    if (!is_ascii_digit(t[end - i])) return false;
  return !is_ascii_digit(before(t, end - count));
}

// A separated card number [b, e) is part of a longer grouped number when a
// dash or dot joins another digit, or a space joins another full 4-digit
// group. A space followed by a shorter group (a CVV, an expiry "12/25")
// does not.
bool card_number_continues(std::string_view t, std::size_t b, std::size_t e, char sep) {
  if (sep == 0) return plain_number_continues(t, b, e);
  if (sep == '-' || sep == '.')
    return (before(t, b) == sep && is_ascii_digit(before(t, b, 2))) ||
           (at(t, e) == sep && is_ascii_digit(at(t, e + 1)));
  const bool group_before = before(t, b) == ' ' && digit_group_ending_at(t, b - 1, 4);
  const bool group_after = at(t, e) == ' ' && digit_group_at(t, e + 1, 4) && at(t, e + 5) != '/';
  return group_before || group_after;
}

// Groupings people write: 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3 and irregular
// ones such as 4-8-4: the first group 4 digits, middle groups 4 to 8, the
// last 1 to 8. A last group shorter than 4 right before "/" and a digit is
// an expiry month ("4111 1111 1111 1111 12/27"), not part of the number.
bool card_grouping_ok(std::string_view t, std::size_t b, std::size_t e) {
  std::size_t groups = 0, run = 0;
  for (std::size_t i = b; i <= e; ++i) {
    if (i < e && is_ascii_digit(t[i])) {
      ++run;
      continue;
    }
    const bool last = i == e;
    if (groups == 0 ? run != 4 : (last ? run > 8 : (run < 4 || run > 8))) return false;
    ++groups;
    if (last && groups > 1 && run < 4 && at(t, e) == '/' && is_ascii_digit(at(t, e + 1)))
      return false;
    run = 0;
  }
  return true;
}

std::optional<ValidatedMatch> validate_card_reading(std::string_view t, std::size_t b,
                                                    std::size_t e) {
  auto [digits, sep] = split_digits(t, b, e);
  if (!validators::card_number_valid(digits)) return std::nullopt;
  if (sep != 0 && !card_grouping_ok(t, b, e)) return std::nullopt;
  if (card_number_continues(t, b, e, sep)) return std::nullopt;
  std::string masked = masking::keep_ends(digits, 4, 4);
  return ValidatedMatch{b, e, std::move(digits), std::move(masked), false};
}

// Vectorscan reports each end once, with the leftmost start: in "1234 12
// 3782 822463 10005" that is "1234", yet the Amex number starts at "3782".
// Try each group start in turn; the leftmost valid reading wins.
std::optional<ValidatedMatch> validate_credit_card(std::string_view t, std::size_t b,
                                                   std::size_t e) {
  for (std::size_t s = b; s < e; ++s)
    if (s == b || (is_ascii_digit(t[s]) && !is_ascii_digit(t[s - 1])))
      if (auto v = validate_card_reading(t, s, e)) return v;
  return std::nullopt;
}

// AAA-GG-SSSS with any of space, dot or dash between the groups, mixed
// ("123-45 6789") or not, or plain nine digits; never one separator only
// ("12345-6789" is a ZIP+4 code).
std::optional<ValidatedMatch> validate_us_ssn(std::string_view t, std::size_t b, std::size_t e) {
  auto [digits, sep] = split_digits(t, b, e);
  if (!validators::ssn_valid(digits)) return std::nullopt;
  const std::size_t separators = (e - b) - digits.size();
  if (separators == 1) return std::nullopt;
  if (sep == 0) {
    if (plain_number_continues(t, b, e)) return std::nullopt;
  } else {
    // Continued by a separator the number itself uses: a longer number.
    const char first = t[b + 3], last = t[e - 5];
    if ((before(t, b) == first && is_ascii_digit(before(t, b, 2))) ||
        (at(t, e) == last && is_ascii_digit(at(t, e + 1))))
      return std::nullopt;
  }
  std::string masked = "***-**-" + digits.substr(5);
  return ValidatedMatch{b, e, std::move(digits), std::move(masked), sep == 0};
}

// Nine digits, or the 4-4-1 form with dashes ("0110-0001-5": routing
// symbol, institution, check digit).
std::optional<ValidatedMatch> validate_aba_routing(std::string_view t, std::size_t b,
                                                   std::size_t e) {
  auto [digits, sep] = split_digits(t, b, e);
  if (!validators::aba_routing_valid(digits)) return std::nullopt;
  if (sep == 0 ? plain_number_continues(t, b, e)
               : (before(t, b) == sep && is_ascii_digit(before(t, b, 2))) ||
                     (at(t, e) == sep && is_ascii_digit(at(t, e + 1))))
    return std::nullopt;
  std::string masked = masking::keep_ends(digits, 0, 4);
  return ValidatedMatch{b, e, std::move(digits), std::move(masked), true};
}

// Separator positions (as indexes into the compact IBAN) people use: the
// print format's groups of four, or the boundaries of the country's BBAN
// fields ("DE89 37040044 0532013000", "FR14 20041 01005 0500013M026 06").
bool iban_grouping_ok(const validators::IbanCountry& country,
                      const std::vector<std::size_t>& breaks, std::size_t length) {
  if (breaks.empty()) return true;
  bool fours = true;
  for (std::size_t i = 0; i < breaks.size() && fours; ++i) fours = breaks[i] == 4 * (i + 1);
  if (fours && breaks.size() == (length - 1) / 4) return true;
  const auto fields = validators::bban_fields(country);
  std::size_t boundary = 4, field = 0;
  for (const std::size_t at_pos : breaks) {
    while (boundary < at_pos && field < fields.count) boundary += fields.length[field++];
    if (boundary != at_pos) return false;
  }
  return true;
}

// Upper or lower case, compact or grouped with one kind of separator
// (space, dash or dot); see iban_grouping_ok.
std::optional<ValidatedMatch> validate_iban_reading(std::string_view t, std::size_t b,
                                                    std::size_t e) {
  std::string compact;
  std::vector<std::size_t> breaks;
  char sep = 0;
  for (std::size_t i = b; i < e; ++i) {
    if (text::is_ascii_alnum(t[i])) {
      compact.push_back(text::ascii_upper(t[i]));
      continue;
    }
    if (sep != 0 && t[i] != sep) return std::nullopt;
    sep = t[i];
    breaks.push_back(compact.size());
  }
  if (!validators::iban_valid(compact)) return std::nullopt;
  const auto* country = validators::iban_country(std::string_view(compact).substr(0, 2));
  if (!iban_grouping_ok(*country, breaks, compact.size())) return std::nullopt;
  // Joined to more characters by its own dash or dot: a longer code.
  if ((sep == '-' || sep == '.') &&
      ((before(t, b) == sep && text::is_ascii_alnum(before(t, b, 2))) ||
       (at(t, e) == sep && text::is_ascii_alnum(at(t, e + 1)))))
    return std::nullopt;
  std::string masked = masking::keep_ends(compact, 4, 4);
  return ValidatedMatch{b, e, std::move(compact), std::move(masked), false};
}

// As for cards, the leftmost start of an end may not be the IBAN's: try
// every group start ("ref AB12 DE89 3704 ...").
std::optional<ValidatedMatch> validate_iban(std::string_view t, std::size_t b, std::size_t e) {
  for (std::size_t s = b; s + 15 <= e; ++s)
    if (s == b || (text::is_ascii_alnum(t[s]) && !text::is_ascii_alnum(t[s - 1])))
      if (auto v = validate_iban_reading(t, s, e)) return v;
  return std::nullopt;
}

bool is_domain_char(char c) {
  return text::is_ascii_alnum(c) || c == '-';
}

bool is_local_part_char(char c) {
  return text::is_ascii_alnum(c) || std::string_view("._%+-").find(c) != std::string_view::npos;
}

// The pattern has no start of match (a leading unbounded local part with
// SOM costs Vectorscan an order of magnitude): find '@' and the local part
// (at most 64 bytes, RFC 5321) from the end.
std::optional<ValidatedMatch> validate_email(std::string_view t, std::size_t, std::size_t e) {
  const std::size_t at_sign = t.rfind('@', e);
  if (at_sign == std::string_view::npos || at_sign == 0) return std::nullopt;
  std::size_t b = at_sign;
  while (b > 0 && at_sign - b < 64 && is_local_part_char(t[b - 1])) --b;
  if (b > 0 && is_local_part_char(t[b - 1])) return std::nullopt;  // local part too long
  // A local part starts with a letter or digit ("...bob@" is "bob@").
  while (b < at_sign && !text::is_ascii_alnum(t[b])) ++b;
  const std::string_view local = t.substr(b, at_sign - b);
  const std::string_view domain = t.substr(at_sign + 1, e - at_sign - 1);
  if (local.empty() || local.back() == '.' || local.find("..") != std::string_view::npos)
    return std::nullopt;
  // Each label non-empty and not starting or ending with '-'.
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (i == label_start || domain[label_start] == '-' || domain[i - 1] == '-')
        return std::nullopt;
      label_start = i + 1;
    }
  }
  // Only the longest domain counts ("a@b.co" inside "a@b.co.uk" does not).
  if ((at(t, e) == '.' || at(t, e) == '-') && is_domain_char(at(t, e + 1))) return std::nullopt;
  std::string normalised;
  normalised.reserve(e - b);
  for (std::size_t i = b; i < e; ++i) normalised.push_back(text::ascii_lower(t[i]));
  std::string masked = std::string(1, local[0]) + "***@" + std::string(domain);
  return ValidatedMatch{b, e, std::move(normalised), std::move(masked), false};
}

std::optional<ValidatedMatch> validate_aws_access_key(std::string_view t, std::size_t b,
                                                      std::size_t e) {
  std::string value(t.substr(b, e - b));
  std::string masked = masking::keep_ends(value, 4, 0);
  return ValidatedMatch{b, e, std::move(value), std::move(masked), false};
}

// The pattern finds the BEGIN line; the block's body must decode to the
// structure its label promises (key_formats.hpp). The sample is the BEGIN
// line alone.
std::optional<ValidatedMatch> validate_private_key(std::string_view t, std::size_t b,
                                                   std::size_t e) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  const std::string_view marker = t.substr(b, e - b);
  if (!marker.starts_with(kBegin) || !marker.ends_with("-----")) return std::nullopt;
  const std::string_view label = marker.substr(kBegin.size(), marker.size() - kBegin.size() - 5);
  auto block = keys::read_private_key_block(t, e, label);
  if (!block) return std::nullopt;
  std::string masked = std::string(marker) + " [masked]";
  return ValidatedMatch{b, block->end, std::move(block->body), std::move(masked), false};
}

bool is_token_value_char(char c) {
  return text::is_ascii_alnum(c) || std::string_view("_-.+/=~").find(c) != std::string_view::npos;
}

// Real secrets are random: demand entropy and a mix of character classes,
// which rejects "xxxxxxxxxxxxxxxxxxxxxxxx" and "this_is_not_a_real_secret".
bool looks_random(std::string_view value) {
  bool lower = false, upper = false, digit = false;
  for (const char c : value) {
    lower |= text::is_ascii_lower(c);
    upper |= text::is_ascii_upper(c);
    digit |= is_ascii_digit(c);
  }
  const int classes = int(lower) + int(upper) + int(digit);
  return classes >= 2 && validators::shannon_entropy(value) >= 3.5;
}

// The pattern has no start of match: it ends exactly 20 value characters
// into the value. Walk back over quote, white space, separator, white space,
// quote and the key word to find where the finding starts.
std::optional<ValidatedMatch> validate_generic_api_token(std::string_view t, std::size_t,
                                                         std::size_t e) {
  constexpr std::size_t kMinValue = 20;
  if (e < kMinValue) return std::nullopt;
  const std::size_t value_begin = e - kMinValue;
  while (is_token_value_char(at(t, e))) ++e;  // the value runs on to its last character
  std::size_t i = value_begin;
  auto skip_back = [&](std::string_view chars) {
    while (i > 0 && chars.find(t[i - 1]) != std::string_view::npos) --i;
  };
  skip_back("\"'");
  skip_back(" \t\r\n");
  skip_back(":=>");
  skip_back(" \t\r\n");
  skip_back("\"'");
  const std::size_t key_end = i;
  while (i > 0 && (text::is_ascii_alnum(t[i - 1]) || t[i - 1] == '_' || t[i - 1] == '-')) --i;
  const std::size_t b = i;
  if (b == key_end) return std::nullopt;
  const std::string_view value = t.substr(value_begin, e - value_begin);
  if (!looks_random(value)) return std::nullopt;
  std::string masked = masking::truncate_utf8(t.substr(b, key_end - b), 40) + "=" +
                       masking::keep_ends(value, 4, 0, 16);
  return ValidatedMatch{b, e, std::string(value), std::move(masked), false};
}

// Upper or lower case, with or without spaces ("ab 12 34 56 c").
std::optional<ValidatedMatch> validate_uk_nino(std::string_view t, std::size_t b, std::size_t e) {
  std::string compact;
  for (std::size_t i = b; i < e; ++i)
    if (t[i] != ' ') compact.push_back(text::ascii_upper(t[i]));
  if (!validators::uk_nino_valid(compact)) return std::nullopt;
  std::string masked = masking::keep_ends(compact, 2, 0);
  return ValidatedMatch{b, e, std::move(compact), std::move(masked), false};
}

bool is_phone_separator(char c) {
  return c == ' ' || c == '.' || c == '-';
}

std::optional<ValidatedMatch> validate_phone_number(std::string_view t, std::size_t b,
                                                    std::size_t e) {
  const char prev = before(t, b);
  if (text::is_ascii_alnum(prev) || prev == '+') return std::nullopt;
  // Only the longest reading of a number counts.
  const char next = at(t, e);
  if (is_ascii_digit(next) ||
      ((is_phone_separator(next) || next == '(' || next == ')') && is_ascii_digit(at(t, e + 1))))
    return std::nullopt;
  std::string normalised = "+";
  int open = 0, pairs = 0;
  for (std::size_t i = b + 1; i < e; ++i) {
    const char c = t[i];
    if (is_ascii_digit(c)) {
      normalised.push_back(c);
      continue;
    }
    if (c == '(') {
      if (open || pairs) return std::nullopt;
      open = 1;
    } else if (c == ')') {
      if (!open) return std::nullopt;
      open = 0;
      ++pairs;
    }
    // Two separators in a row only around a parenthesis: "+44 (20) 7946".
    const char p = t[i - 1];
    if (!is_ascii_digit(p) && p != '+' && c != '(' && p != ')') return std::nullopt;
  }
  const std::size_t digits = normalised.size() - 1;
  if (open || digits < 8 || digits > 15) return std::nullopt;
  std::string masked = masking::keep_ends(normalised, 3, 2);
  return ValidatedMatch{b, e, std::move(normalised), std::move(masked), false};
}

constexpr std::string_view kCardWords[] = {"card",        "cards",       "credit",
                                           "debit",       "visa",        "mastercard",
                                           "master card", "amex",        "american express",
                                           "discover",    "jcb",         "diners",
                                           "unionpay",    "cc",          "cc#",
                                           "ccn",         "card number", "card no",
                                           "expiry",      "expiration",  "exp",
                                           "cvv",         "cvc",         "cvv2",
                                           "pan",         "kreditkarte", "carte bancaire"};
constexpr std::string_view kSsnWords[] = {
    "ssn", "ssn#", "ss#", "social security", "social security number", "ssa", "taxpayer id", "tin"};
constexpr std::string_view kIbanWords[] = {"iban",       "bank account", "account number",
                                           "account no", "bic",          "swift",
                                           "sepa",       "kontonummer",  "bankverbindung"};
constexpr std::string_view kAbaWords[] = {
    "routing", "routing number", "routing no", "aba",  "aba#",
    "rtn",     "transit",        "ach",        "wire", "bank"};
constexpr std::string_view kEmailWords[] = {"email", "e-mail", "mail", "contact", "address"};
constexpr std::string_view kAwsWords[] = {"aws",    "access key", "aws_access_key_id",
                                          "amazon", "iam",        "secret"};
constexpr std::string_view kKeyWords[] = {"key", "private", "ssh", "pem", "rsa", "certificate"};
constexpr std::string_view kTokenWords[] = {"api",  "token",      "secret",     "key",
                                            "auth", "credential", "credentials"};
constexpr std::string_view kNinoWords[] = {
    "national insurance", "nino", "ni number", "ni no", "nin", "hmrc"};
constexpr std::string_view kPhoneWords[] = {"phone", "tel", "telephone", "mobile",
                                            "cell",  "fax", "call",      "contact"};

// Plain 12-19 digits, or a 4-digit group and 1-4 more groups of 1-8 digits
// with one kind of separator; card_grouping_ok decides the rest.
constexpr std::string_view kCreditCardExpr[] = {
    R"(\b(?:[0-9]{12,19}|[0-9]{4}(?:-[0-9]{1,8}){1,4}|[0-9]{4}(?: [0-9]{1,8}){1,4}|[0-9]{4}(?:\.[0-9]{1,8}){1,4})\b)"};
constexpr std::string_view kUsSsnExpr[] = {R"(\b[0-9]{3}[ .\-]?[0-9]{2}[ .\-]?[0-9]{4}\b)"};
// Country, check digits, then 11-30 letters or digits, each optionally
// after one separator; validate_iban checks the grouping.
constexpr std::string_view kIbanExpr[] = {
    R"(\b[A-Za-z]{2}[0-9]{2}(?:[ .\-]?[A-Za-z0-9]){11,30}\b)"};
constexpr std::string_view kAbaRoutingExpr[] = {R"(\b(?:[0-9]{9}|[0-9]{4}-[0-9]{4}-[0-9])\b)"};
constexpr std::string_view kEmailAddressExpr[] = {
    R"([A-Za-z0-9._%+-]@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}\b)"};
// Every documented key id prefix (IAM users, roles, STS, groups, ...),
// then 16 base32 characters.
constexpr std::string_view kAwsAccessKeyExpr[] = {
    R"(\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z2-7]{16}\b)"};
// The BEGIN line only: the validator reads the body (and END line) itself,
// so a block whose END line is missing is still seen.
constexpr std::string_view kPrivateKeyExpr[] = {
    R"(-----BEGIN (?:(?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY|PGP PRIVATE KEY BLOCK)-----)"};
// Split because one alternation of every key word is large for Vectorscan.
constexpr std::string_view kGenericApiTokenExpr[] = {
    R"((?:api[_-]?(?:key|secret)|access[_-]?(?:key|token)|auth[_-]?token)["']?\s*(?::=|=>|[:=]|\s)\s*["']?[A-Za-z0-9_\-.+/=~]{20})",
    R"((?:client[_-]?secret|secret[_-]?key|secret|token)["']?\s*(?::=|=>|[:=]|\s)\s*["']?[A-Za-z0-9_\-.+/=~]{20})",
    R"((?:password|passwd|pwd|bearer)["']?\s*(?::=|=>|[:=]|\s)\s*["']?[A-Za-z0-9_\-.+/=~]{20})"};
constexpr std::string_view kUkNinoExpr[] = {
    R"(\b[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]\b)"};
constexpr std::string_view kPhoneNumberExpr[] = {R"(\+[1-9][0-9 ().-]{6,22}[0-9]\b)"};

constexpr IdentifierSpec kSpecs[] = {
    {"credit_card", kCreditCardExpr, 0, true, kCardWords, validate_credit_card, true},
    {"us_ssn", kUsSsnExpr, 0, true, kSsnWords, validate_us_ssn, true},
    {"iban", kIbanExpr, 0, true, kIbanWords, validate_iban, true},
    {"aba_routing", kAbaRoutingExpr, 0, true, kAbaWords, validate_aba_routing, true},
    {"email_address", kEmailAddressExpr, 0, false, kEmailWords, validate_email},
    {"aws_access_key", kAwsAccessKeyExpr, 0, true, kAwsWords, validate_aws_access_key, true},
    {"private_key", kPrivateKeyExpr, 0, true, kKeyWords, validate_private_key},
    {"generic_api_token", kGenericApiTokenExpr, HS_FLAG_CASELESS, false, kTokenWords,
     validate_generic_api_token},
    {"uk_nino", kUkNinoExpr, 0, true, kNinoWords, validate_uk_nino, true},
    {"phone_number", kPhoneNumberExpr, 0, true, kPhoneWords, validate_phone_number},
};

}  // namespace

std::span<const IdentifierSpec> identifier_specs() {
  return kSpecs;
}

const IdentifierSpec* find_identifier(std::string_view name) {
  for (const auto& spec : kSpecs)
    if (spec.name == name) return &spec;
  return nullptr;
}

}  // namespace cordon::detect
