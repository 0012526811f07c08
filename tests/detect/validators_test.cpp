// The identifier validators on their own: checksums, issuer ranges and
// structural rules, with valid and invalid real-shaped values.
#include "detect/validators.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace cordon::detect::validators {
namespace {

TEST(DetectLuhn, AcceptsValidAndRejectsOffByOne) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_TRUE(luhn_valid("79927398713"));
  EXPECT_FALSE(luhn_valid("79927398710"));
  EXPECT_FALSE(luhn_valid("4111111111111121"));
  EXPECT_FALSE(luhn_valid("4111-1111"));
  EXPECT_FALSE(luhn_valid(""));
}

TEST(DetectCardBrand, MapsIinRangesAndLengths) {
  EXPECT_EQ(card_brand("4111111111111111"), CardBrand::visa);
  EXPECT_EQ(card_brand("4222222222222"), CardBrand::visa);
  EXPECT_EQ(card_brand("5105105105105100"), CardBrand::mastercard);
  EXPECT_EQ(card_brand("2221000000000009"), CardBrand::mastercard);
  EXPECT_EQ(card_brand("2720992720992729"), CardBrand::mastercard);
  EXPECT_EQ(card_brand("2721000000000004"), std::nullopt) << "past 2720";
  EXPECT_EQ(card_brand("2220990000000002"), std::nullopt) << "before 2221";
  EXPECT_EQ(card_brand("378282246310005"), CardBrand::amex);
  EXPECT_EQ(card_brand("3782822463100050"), std::nullopt) << "Amex is 15 digits";
  EXPECT_EQ(card_brand("6011111111111117"), CardBrand::discover);
  EXPECT_EQ(card_brand("6445644564456445"), CardBrand::discover);
  EXPECT_EQ(card_brand("6500000000000002"), CardBrand::discover);
  EXPECT_EQ(card_brand("3530111333300000"), CardBrand::jcb);
  EXPECT_EQ(card_brand("30569309025904"), CardBrand::diners);
  EXPECT_EQ(card_brand("36148900647913"), CardBrand::diners);
  EXPECT_EQ(card_brand("6200000000000005"), CardBrand::unionpay);
  EXPECT_EQ(card_brand("1234567812345670"), std::nullopt);
  EXPECT_EQ(card_brand("411111111111"), std::nullopt) << "too short";
}

TEST(DetectCardNumber, RejectsRepeatedDigitPlaceholders) {
  EXPECT_TRUE(luhn_valid("4444444444444448"));
  EXPECT_FALSE(card_number_valid("4444444444444448"));
  EXPECT_TRUE(card_number_valid("4111111111111111"));
  EXPECT_FALSE(card_number_valid("4111111111111112"));
}

TEST(DetectCardBrand, KnowsEveryPublishedRangeAndLength) {
  struct Case {
    const char* digits;
    std::optional<CardBrand> brand;
  };
  for (const auto& [digits, brand] : std::vector<Case>{
           {"122000000000003", CardBrand::uatp},
           {"1220000000000002", std::nullopt},  // UATP is 15 digits
           {"5019717010103742", CardBrand::dankort},
           {"4571000000000001", CardBrand::dankort},  // co-badged: the longer prefix wins
           {"4571000000000", CardBrand::visa},        // 13 digits: Visa only
           {"6759649826438453", CardBrand::maestro},
           {"676770000000", CardBrand::maestro},  // 12 digits
           {"6767740000000000000", CardBrand::maestro},
           {"676775000000000000", std::nullopt},
           {"62000000000005", CardBrand::unionpay},  // 14 digits
           {"6221260000000000", CardBrand::discover},
           {"6229250000000000000", CardBrand::discover},
           {"6229260000000000", CardBrand::unionpay},
           {"2200000000000004", CardBrand::mir},
           {"2204999999999999999", CardBrand::mir},
           {"2205000000000000", CardBrand::borica},
           {"2206000000000000", std::nullopt},
           {"3095000000000000", CardBrand::diners},
           {"39000000000000", CardBrand::diners},
           {"3528000000000000007", CardBrand::jcb},
           {"5060990000000000", CardBrand::verve},
           {"50609900000000000", std::nullopt},  // Verve: 16, 18 or 19
           {"6040010000000000", CardBrand::ukrcard},
           {"6000000000000000", CardBrand::rupay},
           {"9792000000000000", CardBrand::troy},
           {"3100000000000000000", CardBrand::t_union},
           {"5605105105105107", std::nullopt},
       }) {
    EXPECT_EQ(card_brand(digits), brand) << digits;
  }
}

TEST(DetectCardBrand, TableRangesAreWellFormed) {
  for (const auto& r : iin_ranges()) {
    EXPECT_EQ(r.low.size(), r.high.size()) << r.low;
    EXPECT_LE(r.low, r.high) << r.low;
    EXPECT_NE(r.lengths, 0u) << r.low;
    EXPECT_EQ(r.lengths & ~((1u << 20) - (1u << 12)), 0u) << r.low << ": lengths 12-19 only";
    EXPECT_FALSE(brand_name(r.brand).empty());
  }
}

TEST(DetectSsn, AppliesSsaRules) {
  EXPECT_TRUE(ssn_valid("536221234"));
  EXPECT_TRUE(ssn_valid("899011234"));
  EXPECT_FALSE(ssn_valid("000221234"));
  EXPECT_FALSE(ssn_valid("666221234"));
  EXPECT_FALSE(ssn_valid("900221234"));
  EXPECT_FALSE(ssn_valid("536001234"));
  EXPECT_FALSE(ssn_valid("536220000"));
  EXPECT_FALSE(ssn_valid("078051120"));
  EXPECT_FALSE(ssn_valid("219099999"));
  EXPECT_FALSE(ssn_valid("457555462"));
  EXPECT_FALSE(ssn_valid("53622123"));
}

TEST(DetectIban, ChecksLengthPerCountryAndMod97) {
  EXPECT_TRUE(iban_valid("DE89370400440532013000"));
  EXPECT_TRUE(iban_valid("GB82WEST12345698765432"));
  EXPECT_TRUE(iban_valid("NO9386011117947"));
  EXPECT_TRUE(iban_valid("MT84MALT011000012345MTLCAST001S"));
  EXPECT_FALSE(iban_valid("DE89370400440532013001"));
  EXPECT_FALSE(iban_valid("GB82WEST1234569876543"));
  EXPECT_FALSE(iban_valid("US89370400440532013000"));
  EXPECT_FALSE(iban_valid("de89370400440532013000"));
}

TEST(DetectIban, RegistryHasEveryCountryWithConsistentStructures) {
  const auto registry = iban_registry();
  EXPECT_GE(registry.size(), 80u);
  for (std::size_t i = 0; i < registry.size(); ++i) {
    const auto& c = registry[i];
    if (i > 0) {
      EXPECT_LT(std::string_view(registry[i - 1].code), std::string_view(c.code));
    }
    const auto fields = bban_fields(c);
    unsigned total = 4;
    for (unsigned f = 0; f < fields.count; ++f) total += fields.length[f];
    EXPECT_EQ(total, c.length) << c.code;
    EXPECT_GE(c.length, 15) << c.code;
    EXPECT_LE(c.length, 34) << c.code;
  }
  for (const char* code : {"DE", "GB", "FR", "NO", "LC", "RU", "LY", "SD", "BI", "DJ"})
    EXPECT_NE(iban_country(code), nullptr) << code;
  EXPECT_EQ(iban_country("US"), nullptr);
  EXPECT_EQ(iban_country("D"), nullptr);
}

TEST(DetectIban, ChecksTheBbanStructureOfTheCountry) {
  const auto* de = iban_country("DE");
  const auto* gb = iban_country("GB");
  const auto* fr = iban_country("FR");
  ASSERT_TRUE(de && gb && fr);
  EXPECT_EQ(de->bban, "8!n10!n");
  EXPECT_TRUE(bban_matches(*de, "370400440532013000"));
  EXPECT_FALSE(bban_matches(*de, "37040044053201300A")) << "letter in a numeric field";
  EXPECT_FALSE(bban_matches(*de, "3704004405320130000")) << "too long";
  EXPECT_TRUE(bban_matches(*gb, "WEST12345698765432"));
  EXPECT_FALSE(bban_matches(*gb, "WES712345698765432")) << "digit in the bank code";
  EXPECT_FALSE(bban_matches(*gb, "west12345698765432")) << "compact BBANs are upper case";
  EXPECT_TRUE(bban_matches(*fr, "20041010050500013M02606"));
  EXPECT_FALSE(bban_matches(*fr, "20041010050500013M026X6")) << "the RIB key is numeric";
  const auto fields = bban_fields(*fr);
  ASSERT_EQ(fields.count, 4);
  EXPECT_EQ(fields.length[0], 5);
  EXPECT_EQ(fields.length[2], 11);
  // Mod-97 valid, wrong structure.
  EXPECT_FALSE(iban_valid("DE72ABCD0044053201300A"));
  EXPECT_FALSE(iban_valid("GB25123412345698765432"));
  EXPECT_TRUE(iban_valid("LY83002048000020100120361"));
  EXPECT_TRUE(iban_valid("FR1420041010050500013M02606"));
}

TEST(DetectAbaRouting, ChecksPrefixAndChecksum) {
  EXPECT_TRUE(aba_routing_valid("021000021"));
  EXPECT_TRUE(aba_routing_valid("011000015"));
  EXPECT_TRUE(aba_routing_valid("122105155"));
  EXPECT_FALSE(aba_routing_valid("021000022"));
  EXPECT_FALSE(aba_routing_valid("421000029")) << "prefix 42";
  EXPECT_FALSE(aba_routing_valid("02100002"));
}

TEST(DetectUkNino, AppliesPrefixAndSuffixRules) {
  EXPECT_TRUE(uk_nino_valid("AB123456C"));
  EXPECT_TRUE(uk_nino_valid("JG103760A"));
  EXPECT_FALSE(uk_nino_valid("DA123456C"));
  EXPECT_FALSE(uk_nino_valid("AO123456C"));
  EXPECT_FALSE(uk_nino_valid("BG123456C"));
  EXPECT_FALSE(uk_nino_valid("AB123456E"));
  EXPECT_FALSE(uk_nino_valid("AB12345XC"));
}

TEST(DetectEntropy, SeparatesRandomFromRepetitive) {
  EXPECT_DOUBLE_EQ(shannon_entropy("aaaaaaaa"), 0.0);
  EXPECT_DOUBLE_EQ(shannon_entropy("abababab"), 1.0);
  EXPECT_GT(shannon_entropy("Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1"), 4.0);
  EXPECT_LT(shannon_entropy("passwordpasswordpassword"), 3.0);
}

}  // namespace
}  // namespace cordon::detect::validators
