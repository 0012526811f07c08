// Checksums and structural rules of the built-in data identifiers (Luhn and
// IIN ranges, SSN ranges, IBAN mod-97, ABA 3-7-1, UK NINO prefixes, Shannon
// entropy). Pure functions on normalised values, unit-tested on their own.
#pragma once

#include <optional>
#include <string_view>

namespace cordon::detect::validators {

// Luhn (mod 10) over a string of ASCII digits.
bool luhn_valid(std::string_view digits);

enum class CardBrand { visa, mastercard, amex, discover, jcb, diners, unionpay };

// The brand whose IIN range and length both fit `digits`, if any.
std::optional<CardBrand> card_brand(std::string_view digits);

// Luhn, a known brand, and not a filler number where every digit but the
// check digit is the same (e.g. 4444444444444448).
bool card_number_valid(std::string_view digits);

// Nine digits AAAGGSSSS: area not 000/666/900-999, group not 00, serial not
// 0000, and not a number the SSA published in advertising.
bool ssn_valid(std::string_view digits);

// Compact IBAN (no spaces, upper case): known country, that country's
// length, ISO 7064 mod-97 == 1.
bool iban_valid(std::string_view compact);

// Nine digits: known Federal Reserve prefix (00-12, 21-32, 61-72, 80) and
// the 3-7-1 checksum.
bool aba_routing_valid(std::string_view digits);

// Compact NINO "AB123456C": official prefix exclusions, suffix A-D.
bool uk_nino_valid(std::string_view compact);

// Shannon entropy in bits per byte.
double shannon_entropy(std::string_view value);

}  // namespace cordon::detect::validators
