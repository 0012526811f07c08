// Engine-level tests of each built-in data identifier: real-shaped valid
// values are found with exact offsets, invalid and look-alike values are not.
#include <gtest/gtest.h>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::identifier;
using testing::matches;
using V = std::vector<std::string>;

TEST(DetectCreditCard, FindsEveryUsualFormatting) {
  const auto rule = identifier("credit_card");
  EXPECT_EQ(matches(rule, "card 4111111111111111 ok"), V{"4111111111111111"});
  EXPECT_EQ(matches(rule, "card 4111-1111-1111-1111."), V{"4111-1111-1111-1111"});
  EXPECT_EQ(matches(rule, "(4111 1111 1111 1111)"), V{"4111 1111 1111 1111"});
  EXPECT_EQ(matches(rule, "amex 3782 822463 10005, thanks"), V{"3782 822463 10005"});
  EXPECT_EQ(matches(rule, "amex 3782-822463-10005"), V{"3782-822463-10005"});
  EXPECT_EQ(matches(rule, "diners 3056-930902-5904"), V{"3056-930902-5904"});
  EXPECT_EQ(matches(rule, "4111111111111111\n5555555555554444"),
            (V{"4111111111111111", "5555555555554444"}));
}

TEST(DetectCreditCard, KnowsTheIssuerRanges) {
  const auto rule = identifier("credit_card");
  for (const char* valid :
       {"4012888888881881", "5105105105105100", "2221000000000009", "2720992720992729",
        "378282246310005", "371449635398431", "6011111111111117", "6445644564456445",
        "6500000000000002", "3530111333300000", "3589000000000003", "30569309025904",
        "36148900647913", "38520000023237", "6200000000000005", "4222222222222"}) {
    EXPECT_EQ(matches(rule, std::string("pay ") + valid), V{valid}) << valid;
  }
}

TEST(DetectCreditCard, RejectsLookAlikes) {
  const auto rule = identifier("credit_card");
  EXPECT_TRUE(matches(rule, "4111111111111112").empty()) << "Luhn";
  EXPECT_TRUE(matches(rule, "1234567812345670").empty()) << "no issuer starts with 1";
  EXPECT_TRUE(matches(rule, "5605105105105107").empty()) << "56 is no Mastercard";
  EXPECT_TRUE(matches(rule, "378282246310005000").empty()) << "Amex is 15 digits";
  EXPECT_TRUE(matches(rule, "4444444444444448").empty()) << "repeated-digit placeholder";
  EXPECT_TRUE(matches(rule, "order 94111111111111111 shipped").empty()) << "17-digit run";
  EXPECT_TRUE(matches(rule, "id 41111111111111110000").empty()) << "20-digit run";
  EXPECT_TRUE(matches(rule, "x4111111111111111").empty()) << "glued to a letter";
  EXPECT_TRUE(matches(rule, "4111111111111111x").empty());
  EXPECT_TRUE(matches(rule, "4111-1111-1111-1111-2222").empty()) << "five dash groups";
  EXPECT_TRUE(matches(rule, "9999-4111-1111-1111-1111").empty());
  EXPECT_TRUE(matches(rule, "1234 4111 1111 1111 1111").empty()) << "five space groups";
  EXPECT_TRUE(matches(rule, "4111 1111-1111 1111").empty()) << "mixed separators";
  EXPECT_TRUE(matches(rule, "41 11 11 11 11 11 11 11").empty()) << "unusual grouping";
  EXPECT_TRUE(matches(rule, "3.4111111111111111").empty()) << "decimal fraction";
}

TEST(DetectCreditCard, ToleratesExpiryAndCvvAfterTheNumber) {
  const auto rule = identifier("credit_card");
  EXPECT_EQ(matches(rule, "4111 1111 1111 1111 12/27 123"), V{"4111 1111 1111 1111"});
  EXPECT_EQ(matches(rule, "4111-1111-1111-1111 exp 12/27"), V{"4111-1111-1111-1111"});
}

TEST(DetectCreditCard, HashesDigitsOnlySoFormattingsAreOneValue) {
  auto db = testing::compile_ok({identifier("credit_card")});
  Scanner scanner(db);
  const auto found = scanner.scan(
      "4111 1111 1111 1111 and 4111-1111-1111-1111 and 4111111111111111 "
      "but 5555555555554444");
  ASSERT_EQ(found.size(), 1u);
  ASSERT_EQ(found[0].findings.size(), 4u);
  const auto& f = found[0].findings;
  EXPECT_EQ(f[0].value_hash, f[1].value_hash);
  EXPECT_EQ(f[1].value_hash, f[2].value_hash);
  EXPECT_NE(f[2].value_hash, f[3].value_hash);
  EXPECT_EQ(f[0].masked, "4111********1111");
  EXPECT_EQ(f[1].masked, "4111********1111");
  EXPECT_EQ(f[0].begin, 0u);
  EXPECT_EQ(f[0].end, 19u);
}

TEST(DetectCreditCard, HighConfidenceNeedsAKeywordNearby) {
  const auto rule = identifier("credit_card", Confidence::high, {}, 40);
  EXPECT_EQ(matches(rule, "Visa: 4111111111111111"), V{"4111111111111111"});
  EXPECT_EQ(matches(rule, "4111111111111111 is my CREDIT card"), V{"4111111111111111"});
  EXPECT_TRUE(matches(rule, "order 4111111111111111 shipped").empty());
  EXPECT_TRUE(matches(rule, "card" + std::string(60, ' ') + "4111111111111111").empty())
      << "keyword beyond proximity";
  EXPECT_TRUE(matches(rule, "postcards 4111111111111111").empty()) << "keyword inside a word";
  const auto custom = identifier("credit_card", Confidence::high, {"Zahlungsmittel"}, 40);
  EXPECT_EQ(matches(custom, "ZAHLUNGSMITTEL 4111111111111111"), V{"4111111111111111"});
}

TEST(DetectUsSsn, FindsValidNumbersWithSeparators) {
  const auto rule = identifier("us_ssn");
  EXPECT_EQ(matches(rule, "SSN 536-22-1234."), V{"536-22-1234"});
  EXPECT_EQ(matches(rule, "her number is 536 22 1234"), V{"536 22 1234"});
  EXPECT_EQ(matches(rule, "ssn: 536221234"), V{"536221234"});
}

TEST(DetectUsSsn, RejectsInvalidRangesAndContexts) {
  const auto rule = identifier("us_ssn");
  for (const char* invalid : {"000-22-1234", "666-22-1234", "900-22-1234", "999-22-1234",
                              "536-00-1234", "536-22-0000", "078-05-1120", "219-09-9999"})
    EXPECT_TRUE(matches(rule, std::string("SSN ") + invalid).empty()) << invalid;
  EXPECT_TRUE(matches(rule, "tracking 536221234").empty()) << "plain 9 digits without keyword";
  EXPECT_TRUE(matches(rule, "1-536-22-1234").empty()) << "longer dashed number";
  EXPECT_TRUE(matches(rule, "536-22-1234-5").empty());
  EXPECT_TRUE(matches(rule, "5536-22-1234").empty());
  const auto low = identifier("us_ssn", Confidence::low);
  EXPECT_EQ(matches(low, "tracking 536221234"), V{"536221234"});
}

TEST(DetectUsSsn, MasksAllButTheSerial) {
  auto db = testing::compile_ok({identifier("us_ssn")});
  Scanner scanner(db);
  const auto found = scanner.scan("SSN 536-22-6789");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).masked, "***-**-6789");
}

TEST(DetectIban, FindsValidIbansOfManyCountries) {
  const auto rule = identifier("iban");
  for (const char* valid :
       {"DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606",
        "CH9300762011623852957", "NO9386011117947", "SA0380000000608010167519",
        "AE070331234567890123456", "NL91ABNA0417164300", "ES9121000418450200051332",
        "IT60X0542811101000000123456", "BE68539007547034", "AT611904300234573201"})
    EXPECT_EQ(matches(rule, std::string("IBAN: ") + valid + "."), V{valid}) << valid;
  EXPECT_EQ(matches(rule, "to DE89 3704 0044 0532 0130 00 please"),
            V{"DE89 3704 0044 0532 0130 00"});
  EXPECT_EQ(matches(rule, "GB82 WEST 1234 5698 7654 32"), V{"GB82 WEST 1234 5698 7654 32"});
}

TEST(DetectIban, RejectsWrongChecksumsLengthsAndGrouping) {
  const auto rule = identifier("iban");
  EXPECT_TRUE(matches(rule, "DE89370400440532013001").empty()) << "mod 97";
  EXPECT_TRUE(matches(rule, "DE8937040044053201300").empty()) << "length for DE";
  EXPECT_TRUE(matches(rule, "ZZ89370400440532013000").empty()) << "unknown country";
  EXPECT_TRUE(matches(rule, "DE89 37040 0440532 013000").empty()) << "odd grouping";
  EXPECT_TRUE(matches(rule, "XDE89370400440532013000").empty()) << "inside a word";
}

TEST(DetectAbaRouting, NeedsAKeywordAtMediumConfidence) {
  const auto rule = identifier("aba_routing");
  EXPECT_EQ(matches(rule, "Routing number: 021000021"), V{"021000021"});
  EXPECT_EQ(matches(rule, "ABA 011000015, account 12345"), V{"011000015"});
  EXPECT_TRUE(matches(rule, "invoice 021000021").empty());
  EXPECT_TRUE(matches(rule, "routing 021000022").empty()) << "checksum";
  EXPECT_TRUE(matches(rule, "routing 421000029").empty()) << "prefix 42 is not assigned";
  EXPECT_TRUE(matches(rule, "routing 0210000210").empty()) << "10-digit run";
  const auto low = identifier("aba_routing", Confidence::low);
  EXPECT_EQ(matches(low, "invoice 021000021"), V{"021000021"});
}

TEST(DetectEmailAddress, FindsWholeAddresses) {
  const auto rule = identifier("email_address");
  EXPECT_EQ(matches(rule, "write to Jane.Doe+dlp@mail.example.co.uk, today"),
            V{"Jane.Doe+dlp@mail.example.co.uk"});
  EXPECT_EQ(matches(rule, "<bob@example.com>"), V{"bob@example.com"});
  EXPECT_EQ(matches(rule, "...bob@example.com"), V{"bob@example.com"});
  EXPECT_TRUE(matches(rule, "bob@localhost").empty());
  EXPECT_TRUE(matches(rule, "bob..x@example.com").empty());
  EXPECT_TRUE(matches(rule, "bob@-example.com").empty());
  EXPECT_TRUE(matches(rule, "user@ example.com").empty());
}

TEST(DetectAwsAccessKey, FindsKeyIdsOnly) {
  const auto rule = identifier("aws_access_key");
  EXPECT_EQ(matches(rule, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"), V{"AKIAIOSFODNN7EXAMPLE"});
  EXPECT_EQ(matches(rule, "ASIAY34FZKBOKMUTVV7A"), V{"ASIAY34FZKBOKMUTVV7A"});
  EXPECT_TRUE(matches(rule, "AKIAIOSFODNN7EXAMPLE1").empty()) << "too long";
  EXPECT_TRUE(matches(rule, "AKIAIOSFODNN8EXAMPLE").empty()) << "8 is not base32";
  EXPECT_TRUE(matches(rule, "XAKIAIOSFODNN7EXAMPLE").empty());
}

constexpr const char* kRsaKey =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA0Zk3z8pRk8e1kQ9Wj2pC1m7Q8x3Qb1m0U0o0Yb6m1X2wQm3n\n"
    "p0q9r8s7t6u5v4w3x2y1z0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/==\n"
    "-----END RSA PRIVATE KEY-----";

TEST(DetectPrivateKey, MatchesWholePemBlocksOfEachType) {
  const auto rule = identifier("private_key");
  const std::string text = std::string("key:\n") + kRsaKey + "\nthanks";
  EXPECT_EQ(matches(rule, text), V{kRsaKey});
  const std::string encrypted =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQww\n"
      "-----END ENCRYPTED PRIVATE KEY-----";
  EXPECT_EQ(matches(rule, encrypted), V{encrypted});
  const std::string legacy =
      "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C\n\n"
      "MHcCAQEEIBkVvQ2w\n-----END EC PRIVATE KEY-----";
  EXPECT_EQ(matches(rule, legacy), V{legacy});
  const std::string pkcs8 =
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----";
  const std::string openssh =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE "
      "KEY-----";
  EXPECT_EQ(matches(rule, pkcs8 + "\n\n" + openssh), (V{pkcs8, openssh}));
}

TEST(DetectPrivateKey, IgnoresPublicMaterialAndMismatchedMarkers) {
  const auto rule = identifier("private_key");
  EXPECT_TRUE(
      matches(rule, "-----BEGIN PUBLIC KEY-----\nMIIBIj\n-----END PUBLIC KEY-----").empty());
  EXPECT_TRUE(
      matches(rule, "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END EC PRIVATE KEY-----").empty());
}

TEST(DetectPrivateKey, SampleShowsOnlyTheHeader) {
  auto db = testing::compile_ok({identifier("private_key")});
  Scanner scanner(db);
  const auto found = scanner.scan(kRsaKey);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).masked, "-----BEGIN RSA PRIVATE KEY----- [masked]");
}

TEST(DetectGenericApiToken, FindsHighEntropyValuesAfterKeyWords) {
  const auto rule = identifier("generic_api_token");
  EXPECT_EQ(matches(rule, "api_key=Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1"),
            V{"api_key=Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1"});
  EXPECT_EQ(matches(rule, "\"client_secret\": \"c8F2kQ9zL1mN7pR4sT6vX3yB\","),
            V{"client_secret\": \"c8F2kQ9zL1mN7pR4sT6vX3yB"});
  EXPECT_EQ(matches(rule, "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.Qm9vaw"),
            V{"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.Qm9vaw"});
  EXPECT_EQ(matches(rule, "TOKEN := 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"),
            V{"TOKEN := 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"});
}

TEST(DetectGenericApiToken, RejectsLowEntropyAndShortValues) {
  const auto rule = identifier("generic_api_token");
  EXPECT_TRUE(matches(rule, "password=aaaaaaaaaaaaaaaaaaaaaaaa").empty());
  EXPECT_TRUE(matches(rule, "token: abababababababababababab").empty());
  EXPECT_TRUE(matches(rule, "secret=this_is_not_a_real_secret_value").empty());
  EXPECT_TRUE(matches(rule, "password: correcthorsebatterystaple").empty());
  EXPECT_TRUE(matches(rule, "api_key=Zx9Qm2Lp7Rt4").empty()) << "shorter than 20";
}

TEST(DetectGenericApiToken, SampleKeepsOnlyTheKeyNameAndAPrefix) {
  auto db = testing::compile_ok({identifier("generic_api_token")});
  Scanner scanner(db);
  const auto found = scanner.scan("api_key=Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).masked, "api_key=Zx9Q****************");
}

TEST(DetectUkNino, FindsValidNumbers) {
  const auto rule = identifier("uk_nino");
  EXPECT_EQ(matches(rule, "NI number AB123456C."), V{"AB123456C"});
  EXPECT_EQ(matches(rule, "NINO: JG 10 37 60 A"), V{"JG 10 37 60 A"});
}

TEST(DetectUkNino, AppliesOfficialExclusions) {
  const auto rule = identifier("uk_nino");
  for (const char* invalid : {"DA123456C", "QQ123456C", "AO123456C", "GB123456A", "NK123456A",
                              "TN123456A", "ZZ123456A", "AB123456E", "AB12345C"})
    EXPECT_TRUE(matches(rule, std::string("NINO ") + invalid).empty()) << invalid;
}

TEST(DetectPhoneNumber, FindsInternationalNumbers) {
  const auto rule = identifier("phone_number");
  EXPECT_EQ(matches(rule, "call +44 20 7946 0958 now"), V{"+44 20 7946 0958"});
  EXPECT_EQ(matches(rule, "tel:+1-415-555-2671."), V{"+1-415-555-2671"});
  EXPECT_EQ(matches(rule, "+49 (30) 901820"), V{"+49 (30) 901820"});
  EXPECT_EQ(matches(rule, "+33142685300"), V{"+33142685300"});
}

TEST(DetectPhoneNumber, RejectsImplausibleNumbers) {
  const auto rule = identifier("phone_number");
  EXPECT_TRUE(matches(rule, "+12 345").empty()) << "too short";
  EXPECT_TRUE(matches(rule, "+1234567890123456789").empty()) << "too long";
  EXPECT_TRUE(matches(rule, "+44 -- 20 7946 0958").empty()) << "doubled separators";
  EXPECT_TRUE(matches(rule, "a+44 20 7946 0958").empty());
}

}  // namespace
}  // namespace cordon::detect
