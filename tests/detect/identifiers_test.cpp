// Engine-level tests of each built-in data identifier: real-shaped valid
// values are found with exact offsets, invalid and look-alike values are not.
#include <gtest/gtest.h>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::scan_ok;

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

// The start of these matches is found after the scan, over the bytes a
// match can span: right at the text's ends, after long text, and with
// several readings ending at one place, the offsets are still exact.
TEST(DetectIdentifierStarts, ExactAtTheTextsEdgesAndAfterLongText) {
  const auto card = identifier("credit_card", Confidence::low);
  EXPECT_EQ(matches(card, "4111 1111 1111 1111"), V{"4111 1111 1111 1111"});
  EXPECT_EQ(matches(card, "4111111111111111"), V{"4111111111111111"});
  EXPECT_EQ(matches(card, std::string(5000, 'x') + " 4111-1111-1111-1111"),
            V{"4111-1111-1111-1111"});
  EXPECT_EQ(matches(card, "1234 12 3782 822463 10005"), V{"3782 822463 10005"});
  const auto ssn = identifier("us_ssn", Confidence::low);
  EXPECT_EQ(matches(ssn, "123-45-6789"), V{"123-45-6789"});
  EXPECT_EQ(matches(ssn, std::string(300, '9') + " 123-45-6789 " + std::string(300, 'z')),
            V{"123-45-6789"});
  const auto iban = identifier("iban", Confidence::low);
  EXPECT_EQ(matches(iban, "DE89 3704 0044 0532 0130 00"), V{"DE89 3704 0044 0532 0130 00"});
  EXPECT_EQ(matches(iban, "ref AB12 DE89 3704 0044 0532 0130 00"),
            V{"DE89 3704 0044 0532 0130 00"});
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
  const auto found = scan_ok(scanner,
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

TEST(DetectCreditCard, FindsDotsAndIrregularGrouping) {
  const auto rule = identifier("credit_card");
  EXPECT_EQ(matches(rule, "card 4111.1111.1111.1111."), V{"4111.1111.1111.1111"});
  EXPECT_EQ(matches(rule, "card 4111 11111111 1111 ok"), V{"4111 11111111 1111"});
  EXPECT_EQ(matches(rule, "card 4111-11111111-1111"), V{"4111-11111111-1111"});
  EXPECT_EQ(matches(rule, "19 digits 4111 1111 1111 1111 003"), V{"4111 1111 1111 1111 003"});
  EXPECT_TRUE(matches(rule, "4111.1111.1111.1111.2222").empty()) << "five dot groups";
  EXPECT_TRUE(matches(rule, "4111.1111 1111.1111").empty()) << "mixed separators";
  EXPECT_TRUE(matches(rule, "411 1111 1111 11111").empty()) << "first group of 3";
}

TEST(DetectCreditCard, KnowsEveryPublishedBrand) {
  const auto rule = identifier("credit_card");
  for (const char* valid : {
           "122000000000003",      // UATP, 15 digits
           "5019717010103742",     // Dankort
           "4571000000000001",     // Visa/Dankort
           "6759649826438453",     // Maestro UK
           "6767700000000005",     // Maestro UK 676770
           "501800000009",         // Maestro, 12 digits
           "6304000000000000",     // Maestro
           "6759000000000000005",  // Maestro, 19 digits
           "62000000000005",       // UnionPay, 14 digits
           "6200000000000000000",  // UnionPay, 19 digits
           "4000000000000000006",  // Visa, 19 digits
           "6011000000000000001",  // Discover, 19 digits
           "6221260000000000",     // Discover 622126
           "2200000000000004",     // Mir
           "2204000000000000006",  // Mir, 19 digits
           "3528000000000000007",  // JCB, 19 digits
           "5555555555554444",     // Mastercard
           "2720990000000007",     // Mastercard 2-series
       }) {
    EXPECT_EQ(matches(rule, std::string("pay ") + valid), V{valid}) << valid;
  }
  EXPECT_TRUE(matches(rule, "pay 1220000000000002").empty()) << "UATP is 15 digits";
  EXPECT_TRUE(matches(rule, "pay 501971701010379").empty()) << "Dankort is 16 digits";
}

// Disguises a reader does not see (NFKC compatibility forms, format
// characters) are folded before matching; offsets cover the original text.
TEST(DetectCreditCard, FindsNumbersDisguisedWithUnicode) {
  const auto rule = identifier("credit_card");
  // Fullwidth digits and a fullwidth space.
  EXPECT_EQ(matches(rule,
                    "card \uFF14\uFF11\uFF11\uFF11\u3000\uFF11\uFF11\uFF11\uFF11 "
                    "1111 1111 x"),
            V{"\uFF14\uFF11\uFF11\uFF11\u3000\uFF11\uFF11\uFF11\uFF11 1111 1111"});
  // Zero-width space, word joiner, soft hyphen and BOM between digits.
  EXPECT_EQ(matches(rule, "card 4111\u200B1111\u20601111\u00AD1111\uFEFF."),
            V{"4111\u200B1111\u20601111\u00AD1111"});
  // Arabic-Indic and Devanagari digits, a no-break space and en dashes.
  EXPECT_EQ(matches(rule, "\u0664\u0661\u0661\u0661111111111111"),
            V{"\u0664\u0661\u0661\u0661111111111111"});
  EXPECT_EQ(matches(rule, "4111\u00A01111\u00A01111\u00A01111"),
            V{"4111\u00A01111\u00A01111\u00A01111"});
  EXPECT_EQ(matches(rule, "4111\u20131111\u20131111\u20131111"),
            V{"4111\u20131111\u20131111\u20131111"});
  EXPECT_EQ(matches(rule, "\u0968\u0968\u0968\u0967 0000 0000 0009"),
            V{"\u0968\u0968\u0968\u0967 0000 0000 0009"});
  // Still one value however it is written, and still Luhn-checked.
  auto db = testing::compile_ok({rule});
  ASSERT_TRUE(db);
  Scanner scanner(db);
  auto a = scan_ok(scanner, "4111111111111111");
  auto b = scan_ok(scanner, "\uFF14111\u200B111111111111");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].findings[0].value_hash, b[0].findings[0].value_hash);
  EXPECT_EQ(b[0].findings[0].masked, "4111********1111");
  EXPECT_TRUE(matches(rule, "\uFF14111111111111112").empty());
}

TEST(DetectIban, FindsFullwidthAndZeroWidthDisguises) {
  const auto rule = identifier("iban");
  EXPECT_EQ(matches(rule, "IBAN \uFF24\uFF25\uFF18\uFF19 3704 0044 0532 0130 00"),
            V{"\uFF24\uFF25\uFF18\uFF19 3704 0044 0532 0130 00"});
  EXPECT_EQ(matches(rule, "IBAN DE89\u200B3704\u200B0044\u200B0532\u200B0130\u200B00"),
            V{"DE89\u200B3704\u200B0044\u200B0532\u200B0130\u200B00"});
}

TEST(DetectKeywords, MatchFullwidthAndZeroWidthDisguises) {
  const auto rule = testing::keywords({"project neptune"});
  EXPECT_EQ(matches(rule, "the \uFF30roject ne\u200Bptune plan").size(), 1u);
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

TEST(DetectUsSsn, AcceptsMixedSeparators) {
  const auto rule = identifier("us_ssn");
  EXPECT_EQ(matches(rule, "SSN 536-22 1234."), V{"536-22 1234"});
  EXPECT_EQ(matches(rule, "SSN 536.22.1234"), V{"536.22.1234"});
  EXPECT_EQ(matches(rule, "SSN 536 22-1234"), V{"536 22-1234"});
  EXPECT_TRUE(matches(rule, "SSN 53622-1234").empty()) << "one separator: ZIP+4 shape";
  EXPECT_TRUE(matches(rule, "SSN 536-221234").empty());
  EXPECT_TRUE(matches(rule, "SSN 457-55-5462").empty()) << "published example";
  EXPECT_TRUE(matches(rule, "v1.536.22.1234").empty()) << "longer dotted number";
}

TEST(DetectUsSsn, MasksAllButTheSerial) {
  auto db = testing::compile_ok({identifier("us_ssn")});
  Scanner scanner(db);
  const auto found = scan_ok(scanner, "SSN 536-22-6789");
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

TEST(DetectIban, AcceptsCaseSeparatorsAndFieldGrouping) {
  const auto rule = identifier("iban");
  EXPECT_EQ(matches(rule, "iban de89 3704 0044 0532 0130 00."), V{"de89 3704 0044 0532 0130 00"});
  EXPECT_EQ(matches(rule, "DE89-3704-0044-0532-0130-00"), V{"DE89-3704-0044-0532-0130-00"});
  EXPECT_EQ(matches(rule, "DE89.3704.0044.0532.0130.00"), V{"DE89.3704.0044.0532.0130.00"});
  EXPECT_EQ(matches(rule, "Gb82West12345698765432"), V{"Gb82West12345698765432"});
  EXPECT_EQ(matches(rule, "DE89 37040044 0532013000"), V{"DE89 37040044 0532013000"});
  EXPECT_EQ(matches(rule, "FR14 20041 01005 0500013M026 06"), V{"FR14 20041 01005 0500013M026 06"});
  EXPECT_TRUE(matches(rule, "DE89-3704 0044-0532 0130 00").empty()) << "mixed separators";
  EXPECT_TRUE(matches(rule, "DE89-3704-0044-0532-0130-00-17").empty()) << "dash continues";
}

TEST(DetectIban, RejectsAChecksumValidIbanOfTheWrongStructure) {
  const auto rule = identifier("iban");
  // Mod-97 valid but letters where Germany has digits, digits where the UK
  // has its bank code letters.
  EXPECT_TRUE(matches(rule, "DE72ABCD0044053201300A").empty());
  EXPECT_TRUE(matches(rule, "GB25123412345698765432").empty());
  EXPECT_EQ(matches(rule, "LY83002048000020100120361"), V{"LY83002048000020100120361"});
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

TEST(DetectAbaRouting, AcceptsTheDashedForm) {
  const auto low = identifier("aba_routing", Confidence::low);
  EXPECT_EQ(matches(low, "ABA 0110-0001-5."), V{"0110-0001-5"});
  EXPECT_TRUE(matches(low, "0110-0001-6").empty()) << "checksum";
  EXPECT_TRUE(matches(low, "0110-0001-5-7").empty()) << "longer dashed number";
  EXPECT_TRUE(matches(low, "011-000-015").empty()) << "3-3-3 is no routing number form";
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

// Throwaway keys generated for these tests (openssl, ssh-keygen, gpg).
constexpr const char* kRsaKey =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIBOwIBAAJBAMjS7WvVVTvL7CcXWq5LC3SXYzPjBboelIfZa+/lM09UJwqKpJVF\n"
    "a1ZGbiNUVaYIF1/fivEh7/jO6gbnsNXqenkCAwEAAQJAPk/saUwtgTtaEBsYAQK6\n"
    "EDg1CNGFYmXAspJNAoe8rv0h0PiPifXt2TtlQyhdYmhGcO+M33Ae3VSMgey/qxd7\n"
    "XQIhAObC5UpcxRj6pFt35KwTJx8NbHXnnv89shx61vx9KI0LAiEA3snQEtI4pD+L\n"
    "Lf5kArhi12YZ7aiTQ8AkmP5/SuO6IQsCIQC21fkCYFqyHfUXm/kM9efrTKGBEdIC\n"
    "fgmfUxz/1NLKXQIgRfJWwZH+9pJ8wBP+klwRrE8CFPu4QK0y0FYW4Qxeg8ECIQDI\n"
    "aWLpiuJeiL0+c8cwv0EcGN59Qz90Zo77IEaY4LIAjg==\n"
    "-----END RSA PRIVATE KEY-----";
constexpr const char* kEncryptedPkcs8Key =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiAIfKalV2QGAICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEJNiATOSRZWXlUcI6k74HTwEQFyH\n"
    "ZX3MPHbo+Yx9NwJclEdP8R6zXHQcD/CEgT3TOwXBtOHoY5qAv32vbayHBlOqwePm\n"
    "7dnbsUHIcmeI9MkfgLE=\n"
    "-----END ENCRYPTED PRIVATE KEY-----";
constexpr const char* kLegacyEncryptedEcKey =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,8145BD4EC645885ED47CA50AB707770D\n"
    "\n"
    "Q7ixVpGHoy8qENerrKjxPdYHH8/B0tXIQWQ9XlFlIBw6SyAQbm9GYiup9fVyFB+p\n"
    "7l2GSyHDxQ6Njvft254POEq5MOOmEv2FQpEgJk8NAtmI4+LsuQt0xkQRLQSWQAHS\n"
    "OUKZ/yT5cW9NHHDXPZRQ04ZAdrMtitvEH0ZW+O2ltbk=\n"
    "-----END EC PRIVATE KEY-----";
constexpr const char* kPkcs8Key =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBydUrbV/RxGT9ti9pl4fGwU5ZZ0fDi9vzCT9RoUKfez\n"
    "-----END PRIVATE KEY-----";
constexpr const char* kOpensshKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACAHsHB0IOLyb6iTDWaIDTd93HcYGpJOJRaNvw9uUMGQQwAAAJCJ2hw4idoc\n"
    "OAAAAAtzc2gtZWQyNTUxOQAAACAHsHB0IOLyb6iTDWaIDTd93HcYGpJOJRaNvw9uUMGQQw\n"
    "AAAEDNIC+ee4tlquD2q1z5qYCElFXFwVTqHPiUaiIkRNHUCQewcHQg4vJvqJMNZogNN33c\n"
    "dxgakk4lFo2/D25QwZBDAAAADHRlc3RAZXhhbXBsZQE=\n"
    "-----END OPENSSH PRIVATE KEY-----";
constexpr const char* kEcKey =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIPugf2s9c8533N9pXuKRQcXKsKhsI33gQCwgGgKi4L7MoAoGCCqGSM49\n"
    "AwEHoUQDQgAEPC6HRoVIHrXV+2IzGO8akRzh25yL0QPKFIzsHKvXUTJRPb2tHzOt\n"
    "Gf9uv9enjoxmnDEj5+ZancjRfpB5ei5a3A==\n"
    "-----END EC PRIVATE KEY-----";
constexpr const char* kPgpKey =
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"
    "\n"
    "lFgEaw+lchYJKwYBBAHaRw8BAQdA85rwzPMOX8sYIfBButHm3wIV8MvYMAXfjQUL\n"
    "lBHvuJQAAP0SWRWZMFxStPKdv29obX0PXyLE6R8x0OHiCdJBiKiygxBYtBtUZXN0\n"
    "IEtleSA8dGVzdEBleGFtcGxlLmNvbT6IkAQTFggAOBYhBIYw0D2h1mJjelfW+jbI\n"
    "8kJ7UO3PBQJrD6VyAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4BAheAAAoJEDbI8kJ7\n"
    "UO3P/qUBAKbvE96T/ANd826rQ0hMa3PGFLP9wNAWA/5n/68tlW3fAP988kpZalhF\n"
    "rWvGFHiYlkqsgUUDrL6r3nbgdldnbvmJCQ==\n"
    "=hCb9\n"
    "-----END PGP PRIVATE KEY BLOCK-----";

TEST(DetectPrivateKey, MatchesWholePemBlocksOfEachType) {
  const auto rule = identifier("private_key");
  const std::string text = std::string("key:\n") + kRsaKey + "\nthanks";
  EXPECT_EQ(matches(rule, text), V{kRsaKey});
  const std::string encrypted = kEncryptedPkcs8Key;
  EXPECT_EQ(matches(rule, encrypted), V{encrypted});
  const std::string legacy = kLegacyEncryptedEcKey;
  EXPECT_EQ(matches(rule, legacy), V{legacy});
  const std::string pkcs8 = kPkcs8Key;
  const std::string openssh = kOpensshKey;
  EXPECT_EQ(matches(rule, pkcs8 + "\n\n" + openssh), (V{pkcs8, openssh}));
}

TEST(DetectPrivateKey, IgnoresPublicMaterialAndMismatchedMarkers) {
  const auto rule = identifier("private_key");
  EXPECT_TRUE(
      matches(rule, "-----BEGIN PUBLIC KEY-----\nMIIBIj\n-----END PUBLIC KEY-----").empty());
  EXPECT_TRUE(
      matches(rule, "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END EC PRIVATE KEY-----").empty());
}

TEST(DetectPrivateKey, RecognisesPgpSecretKeyBlocks) {
  const auto rule = identifier("private_key");
  const std::string text = std::string("exported:\n") + kPgpKey + "\n";
  EXPECT_EQ(matches(rule, text), V{kPgpKey});
  auto db = testing::compile_ok({rule});
  Scanner scanner(db);
  const auto found = scan_ok(scanner, kPgpKey);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).masked, "-----BEGIN PGP PRIVATE KEY BLOCK----- [masked]");
}

TEST(DetectPrivateKey, RejectsPlaceholderBodies) {
  const auto rule = identifier("private_key");
  for (const char* body : {"MIIEowIBAAKCAQEA...", "MIIE...", "xxxxxxxxxxxxxxxxxxxxxxxx",
                           "<your key here>", "REDACTED", "MIIEowIBAAKCAQEA0Zk3z8pRk8e1"}) {
    const std::string text =
        std::string("-----BEGIN RSA PRIVATE KEY-----\n") + body + "\n-----END RSA PRIVATE KEY-----";
    EXPECT_TRUE(matches(rule, text).empty()) << body;
  }
  EXPECT_TRUE(matches(rule,
                      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
                      "-----END OPENSSH PRIVATE KEY-----")
                  .empty())
      << "magic alone";
  EXPECT_TRUE(matches(rule,
                      "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n...\n-----END PGP PRIVATE KEY "
                      "BLOCK-----")
                  .empty());
}

TEST(DetectPrivateKey, RejectsABodyOfTheWrongStructure) {
  const auto rule = identifier("private_key");
  // A DER key under an OpenSSH label, an OpenSSH key under a PGP label.
  std::string der_as_openssh = kPkcs8Key;
  der_as_openssh.replace(der_as_openssh.find("BEGIN PRIVATE"), 13, "BEGIN OPENSSH PRIVATE");
  der_as_openssh.replace(der_as_openssh.find("END PRIVATE"), 11, "END OPENSSH PRIVATE");
  EXPECT_TRUE(matches(rule, der_as_openssh).empty());
  std::string truncated = kRsaKey;
  truncated.erase(truncated.find("\nfgmf"), 65);  // one body line less
  EXPECT_TRUE(matches(rule, truncated).empty()) << "DER length beyond the body";
}

TEST(DetectPrivateKey, FindsAKeyWhoseEndLineIsMissing) {
  const auto rule = identifier("private_key");
  std::string key = kEcKey;
  key.erase(key.find("\n-----END"));
  EXPECT_EQ(matches(rule, "here it is:\n" + key + "\n\nthanks, Bob"), V{key});
  EXPECT_EQ(matches(rule, key + "\nThanks"), V{key}) << "ends where the DER ends";
  std::string pgp = kPgpKey;
  pgp.erase(pgp.find("\n-----END"));
  EXPECT_EQ(matches(rule, pgp + "\n-- \nBob"), V{pgp.substr(0, pgp.find("\n=hCb9"))});
  std::string cut = key.substr(0, key.size() - 20);
  EXPECT_TRUE(matches(rule, cut + "\nbye").empty()) << "body shorter than its DER length";
}

TEST(DetectPrivateKey, ReadsKeysInJsonStringsAndOnOneLine) {
  const auto rule = identifier("private_key");
  std::string key = kPkcs8Key;
  std::string escaped;
  for (const char c : key) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  const std::string json = "{\"private_key\": \"" + escaped + "\\n\", \"x\": 1}";
  EXPECT_EQ(matches(rule, json), V{escaped});
  // Line breaks turned into spaces (an environment variable, a chat paste).
  std::string one_line = kPkcs8Key;
  for (char& c : one_line)
    if (c == '\n') c = ' ';
  EXPECT_EQ(matches(rule, "PRIVATE_KEY=\"" + one_line + "\""), V{one_line});
}

TEST(DetectPrivateKey, SampleShowsOnlyTheHeader) {
  auto db = testing::compile_ok({identifier("private_key")});
  Scanner scanner(db);
  const auto found = scan_ok(scanner, kRsaKey);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).masked, "-----BEGIN RSA PRIVATE KEY----- [masked]");
}

TEST(DetectAwsAccessKey, KnowsEveryDocumentedPrefix) {
  const auto rule = identifier("aws_access_key");
  for (const char* prefix : {"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA",
                             "APKA", "AROA", "ASCA", "A3T4", "A3TZ"}) {
    const std::string id = std::string(prefix) + "IOSFODNN7EXAMPLE";
    EXPECT_EQ(matches(rule, "id " + id + "."), V{id}) << prefix;
  }
  EXPECT_TRUE(matches(rule, "AKIBIOSFODNN7EXAMPLE").empty());
  EXPECT_TRUE(matches(rule, "akiaiosfodnn7example").empty());
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
  const auto found = scan_ok(scanner, "api_key=Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1");
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

TEST(DetectUkNino, AcceptsLowerCaseAndSpaces) {
  const auto rule = identifier("uk_nino");
  EXPECT_EQ(matches(rule, "nino ab 12 34 56 c."), V{"ab 12 34 56 c"});
  EXPECT_EQ(matches(rule, "NINO AB 123456 C"), V{"AB 123456 C"});
  EXPECT_EQ(matches(rule, "nino jg103760a"), V{"jg103760a"});
  EXPECT_TRUE(matches(rule, "nino qq 12 34 56 c").empty());
  auto db = testing::compile_ok({rule});
  Scanner scanner(db);
  const auto a = scan_ok(scanner, "ab 12 34 56 c");
  const auto b = scan_ok(scanner, "AB123456C");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].findings.at(0).value_hash, b[0].findings.at(0).value_hash);
  EXPECT_EQ(a[0].findings.at(0).masked, "AB*******");
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
