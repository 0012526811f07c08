// Checksums and structural rules of the built-in data identifiers (Luhn and
// IIN ranges, SSN ranges, IBAN mod-97 and BBAN structure, ABA 3-7-1, UK
// NINO prefixes, Shannon entropy). Pure functions on normalised values,
// unit-tested on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace cordon::detect::validators {

// Luhn (mod 10) over a string of ASCII digits.
bool luhn_valid(std::string_view digits);

enum class CardBrand {
  visa,
  mastercard,
  amex,
  discover,
  jcb,
  diners,
  unionpay,
  maestro,
  dankort,
  mir,
  uatp,
  verve,
  interpayment,
  instapayment,
  troy,
  humo,
  uzcard,
  borica,
  ukrcard,
  rupay,
  dinacard,
  t_union,
};

std::string_view brand_name(CardBrand brand);

// One published IIN range: numbers whose first `low.size()` digits lie in
// [low, high] (both that many digits) and whose length is in `lengths`
// (bit n set: n digits allowed).
struct IinRange {
  std::string_view low;
  std::string_view high;
  std::uint32_t lengths;
  CardBrand brand;
};

// The IIN table, as published by the schemes (see docs/detection.md).
std::span<const IinRange> iin_ranges();

// The brand whose IIN range and length both fit `digits`, if any; where
// ranges overlap (co-badged cards), the longest prefix wins.
std::optional<CardBrand> card_brand(std::string_view digits);

// Luhn, a known brand, and not a filler number where every digit but the
// check digit is the same (e.g. 4444444444444448).
bool card_number_valid(std::string_view digits);

// Nine digits AAAGGSSSS: area not 000/666/900-999, group not 00, serial not
// 0000, and not a number the SSA published in advertising.
bool ssn_valid(std::string_view digits);

// One country of the ISO 13616 registry. `bban` is the registry's notation:
// fields "<count>!<class>", class n (digits), a (upper-case letters) or c
// (upper-case letters and digits), e.g. "5!n5!n11!c2!n" for France.
struct IbanCountry {
  char code[3];
  unsigned char length;  // of the whole IBAN
  std::string_view bban;
};

// Every country of the registry, sorted by code (iban_registry.cpp,
// generated from python-stdnum's registry file).
std::span<const IbanCountry> iban_registry();
const IbanCountry* iban_country(std::string_view code);

// Lengths of the BBAN fields of `country`, in order ("8!n10!n": 8, 10).
// At most 8 fields (the registry has no more than 6).
struct BbanFields {
  unsigned char count = 0;
  unsigned char length[8] = {};
};
BbanFields bban_fields(const IbanCountry& country);

// Compact BBAN (upper case) against the country's structure.
bool bban_matches(const IbanCountry& country, std::string_view bban);

// Compact IBAN (no separators, upper case): a registry country, that
// country's BBAN structure (length and character class per position), and
// ISO 7064 mod-97 == 1.
bool iban_valid(std::string_view compact);

// Nine digits: known Federal Reserve prefix (00-12, 21-32, 61-72, 80) and
// the 3-7-1 checksum.
bool aba_routing_valid(std::string_view digits);

// Compact NINO "AB123456C" (upper case): HMRC's prefix rules (first letter
// not D F I Q U V, second not D F I O Q U V, BG GB KN NK NT TN ZZ never
// allocated), six digits, suffix A-D.
bool uk_nino_valid(std::string_view compact);

// Shannon entropy in bits per byte.
double shannon_entropy(std::string_view value);

}  // namespace cordon::detect::validators
