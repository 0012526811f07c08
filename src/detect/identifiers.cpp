// Built-in data identifiers: candidate patterns, validators, masks and
// supporting keywords. Design notes:
// - Numbers must stand alone: a candidate inside a longer digit run, or
//   continued by another group with the same separator ("4111-1111-1111-
//   1111-2222"), is part of a different number and is rejected.
// - Card numbers hash on digits only, so every formatting of one number is
//   one unique value.
// - ABA routing numbers always need a supporting keyword (at medium
//   confidence): one random 9-digit number in ~30 passes prefix + checksum.
// - A plain 9-digit SSN (no separators) likewise needs a keyword.
#include "detect/identifiers.hpp"

#include <hs/hs.h>

#include <array>

#include "detect/masking.hpp"
#include "detect/text.hpp"
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
// dash joins another digit, or a space joins another full 4-digit group.
// A space followed by a shorter group (a CVV, an expiry "12/25") does not.
bool card_number_continues(std::string_view t, std::size_t b, std::size_t e, char sep) {
  if (sep == 0) return plain_number_continues(t, b, e);
  if (sep == '-')
    return (before(t, b) == '-' && is_ascii_digit(before(t, b, 2))) ||
           (at(t, e) == '-' && is_ascii_digit(at(t, e + 1)));
  const bool group_before = before(t, b) == ' ' && digit_group_ending_at(t, b - 1, 4);
  const bool group_after = at(t, e) == ' ' && digit_group_at(t, e + 1, 4) && at(t, e + 5) != '/';
  return group_before || group_after;
}

std::optional<ValidatedMatch> validate_credit_card(std::string_view t, std::size_t b,
                                                   std::size_t e) {
  auto [digits, sep] = split_digits(t, b, e);
  if (!validators::card_number_valid(digits)) return std::nullopt;
  if (card_number_continues(t, b, e, sep)) return std::nullopt;
  std::string masked = masking::keep_ends(digits, 4, 4);
  return ValidatedMatch{b, e, std::move(digits), std::move(masked), false};
}

std::optional<ValidatedMatch> validate_us_ssn(std::string_view t, std::size_t b, std::size_t e) {
  auto [digits, sep] = split_digits(t, b, e);
  if (!validators::ssn_valid(digits)) return std::nullopt;
  if (sep == 0) {
    if (plain_number_continues(t, b, e)) return std::nullopt;
  } else if ((before(t, b) == sep && is_ascii_digit(before(t, b, 2))) ||
             (at(t, e) == sep && is_ascii_digit(at(t, e + 1)))) {
    return std::nullopt;
  }
  std::string masked = "***-**-" + digits.substr(5);
  return ValidatedMatch{b, e, std::move(digits), std::move(masked), sep == 0};
}

std::optional<ValidatedMatch> validate_aba_routing(std::string_view t, std::size_t b,
                                                   std::size_t e) {
  std::string digits(t.substr(b, e - b));
  if (!validators::aba_routing_valid(digits) || plain_number_continues(t, b, e))
    return std::nullopt;
  std::string masked = masking::keep_ends(digits, 0, 4);
  return ValidatedMatch{b, e, std::move(digits), std::move(masked), true};
}

std::optional<ValidatedMatch> validate_iban(std::string_view t, std::size_t b, std::size_t e) {
  std::string compact;
  bool grouped = false;
  for (std::size_t i = b; i < e; ++i) {
    if (t[i] == ' ') {
      grouped = true;
      // Spaces only between groups of four: "DE89 3704 0044 ..."
      if ((i - b) % 5 != 4) return std::nullopt;
    } else {
      compact.push_back(t[i]);
    }
  }
  if (grouped && (e - b) != compact.size() + (compact.size() - 1) / 4) return std::nullopt;
  if (!validators::iban_valid(compact)) return std::nullopt;
  std::string masked = masking::keep_ends(compact, 4, 4);
  return ValidatedMatch{b, e, std::move(compact), std::move(masked), false};
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

// "RSA " in "-----BEGIN RSA PRIVATE KEY-----", or "" for PKCS#8.
std::string_view pem_key_type(std::string_view marker_tail) {
  const std::size_t pos = marker_tail.find("PRIVATE KEY-----");
  return pos == std::string_view::npos ? std::string_view() : marker_tail.substr(0, pos);
}

std::optional<ValidatedMatch> validate_private_key(std::string_view t, std::size_t b,
                                                   std::size_t e) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kEnd = "-----END ";
  const std::string_view block = t.substr(b, e - b);
  const std::size_t end_marker = block.rfind(kEnd);
  if (block.substr(0, kBegin.size()) != kBegin || end_marker == std::string_view::npos)
    return std::nullopt;
  const std::string_view begin_type = pem_key_type(block.substr(kBegin.size()));
  const std::string_view end_type = pem_key_type(block.substr(end_marker + kEnd.size()));
  if (begin_type != end_type) return std::nullopt;
  const std::size_t body_begin = kBegin.size() + begin_type.size() + 16;  // "PRIVATE KEY-----"
  std::string body;
  for (std::size_t i = body_begin; i < end_marker; ++i)
    if (!(block[i] == ' ' || block[i] == '\t' || block[i] == '\r' || block[i] == '\n'))
      body.push_back(block[i]);
  std::string masked = "-----BEGIN " + std::string(begin_type) + "PRIVATE KEY----- [masked]";
  return ValidatedMatch{b, e, std::move(body), std::move(masked), false};
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

std::optional<ValidatedMatch> validate_uk_nino(std::string_view t, std::size_t b, std::size_t e) {
  std::string compact;
  for (std::size_t i = b; i < e; ++i)
    if (t[i] != ' ') compact.push_back(t[i]);
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

constexpr std::string_view kCreditCardExpr[] = {
    R"(\b(?:[0-9]{13,19}|[0-9]{4}(?:-[0-9]{4}){3}(?:-[0-9]{1,3})?|[0-9]{4}(?: [0-9]{4}){3}(?: [0-9]{1,3})?|[0-9]{4}-[0-9]{6}-[0-9]{4,5}|[0-9]{4} [0-9]{6} [0-9]{4,5})\b)"};
constexpr std::string_view kUsSsnExpr[] = {
    R"(\b(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}|[0-9]{9})\b)"};
constexpr std::string_view kIbanExpr[] = {
    R"(\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b)"};
constexpr std::string_view kAbaRoutingExpr[] = {R"(\b[0-9]{9}\b)"};
constexpr std::string_view kEmailAddressExpr[] = {
    R"([A-Za-z0-9._%+-]@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}\b)"};
constexpr std::string_view kAwsAccessKeyExpr[] = {R"(\b(?:AKIA|ASIA)[A-Z2-7]{16}\b)"};
// A '-' inside the body must be followed by a letter or digit, so a body
// can never run across a "-----END" marker into the next block.
constexpr std::string_view kPrivateKeyExpr[] = {
    R"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.()]|-[A-Za-z0-9])*-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----)"};
// Split because one alternation of every key word is large for Vectorscan.
constexpr std::string_view kGenericApiTokenExpr[] = {
    R"((?:api[_-]?(?:key|secret)|access[_-]?(?:key|token)|auth[_-]?token)["']?\s*(?::=|=>|[:=]|\s)\s*["']?[A-Za-z0-9_\-.+/=~]{20})",
    R"((?:client[_-]?secret|secret[_-]?key|secret|token)["']?\s*(?::=|=>|[:=]|\s)\s*["']?[A-Za-z0-9_\-.+/=~]{20})",
    R"((?:password|passwd|pwd|bearer)["']?\s*(?::=|=>|[:=]|\s)\s*["']?[A-Za-z0-9_\-.+/=~]{20})"};
constexpr std::string_view kUkNinoExpr[] = {R"(\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b)"};
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
