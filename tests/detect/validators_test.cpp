// The identifier validators on their own: checksums, issuer ranges and
// structural rules, with valid and invalid real-shaped values.
#include "detect/validators.hpp"

#include <gtest/gtest.h>

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
