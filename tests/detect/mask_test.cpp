// Masking: the generic mask() shape, and the guarantee that no sample the
// engine returns contains the full matched value.
#include <gtest/gtest.h>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::scan_ok;

TEST(DetectMask, KeepsFewerCharactersOfShorterValues) {
  EXPECT_EQ(mask("4111111111111111"), "4111********1111");
  EXPECT_EQ(mask("AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
  EXPECT_EQ(mask("ACME-12345"), "AC********");
  EXPECT_EQ(mask("secret"), "s*****");
  EXPECT_EQ(mask("abcd"), "****");
  EXPECT_EQ(mask(""), "");
}

TEST(DetectMask, CountsCodePointsAndNeverSplitsThem) {
  EXPECT_EQ(mask("ÜberGeheimnisÄÖÜäöü"), "Über***********Üäöü");
  EXPECT_EQ(mask("日本語"), "***");
}

TEST(DetectMask, CapsTheLengthOfLongValues) {
  const std::string longer(10000, 'x');
  EXPECT_LT(mask(longer).size(), 64u);
}

struct Sample {
  const char* identifier;
  std::string text;
  std::string secret;  // the part a sample must never contain
};

TEST(DetectMask, NoIdentifierSampleContainsTheFullValue) {
  const std::vector<Sample> samples = {
      {"credit_card", "card 4111 1111 1111 1111", "4111111111111111"},
      {"credit_card", "card 4111-1111-1111-1111", "1111-1111-1111"},
      {"credit_card", "amex 378282246310005", "378282246310005"},
      {"us_ssn", "SSN 536-22-1234", "536-22"},
      {"us_ssn", "SSN 536221234", "536221234"},
      {"iban", "IBAN DE89370400440532013000", "DE89370400440532013000"},
      {"iban", "IBAN DE89 3704 0044 0532 0130 00", "370400440532"},
      {"aba_routing", "routing 021000021", "021000021"},
      {"email_address", "jane.doe@example.com", "jane.doe@"},
      {"aws_access_key", "AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"},
      {"private_key",
       // A throwaway 512-bit key generated for this test.
       "-----BEGIN RSA PRIVATE KEY-----\n"
       "MIIBOwIBAAJBAMjS7WvVVTvL7CcXWq5LC3SXYzPjBboelIfZa+/lM09UJwqKpJVF\n"
       "a1ZGbiNUVaYIF1/fivEh7/jO6gbnsNXqenkCAwEAAQJAPk/saUwtgTtaEBsYAQK6\n"
       "EDg1CNGFYmXAspJNAoe8rv0h0PiPifXt2TtlQyhdYmhGcO+M33Ae3VSMgey/qxd7\n"
       "XQIhAObC5UpcxRj6pFt35KwTJx8NbHXnnv89shx61vx9KI0LAiEA3snQEtI4pD+L\n"
       "Lf5kArhi12YZ7aiTQ8AkmP5/SuO6IQsCIQC21fkCYFqyHfUXm/kM9efrTKGBEdIC\n"
       "fgmfUxz/1NLKXQIgRfJWwZH+9pJ8wBP+klwRrE8CFPu4QK0y0FYW4Qxeg8ECIQDI\n"
       "aWLpiuJeiL0+c8cwv0EcGN59Qz90Zo77IEaY4LIAjg==\n"
       "-----END RSA PRIVATE KEY-----",
       "MIIBOwIBAAJBAMjS7WvVVTvL7CcX"},
      {"generic_api_token", "api_key=Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1", "Zx9Qm2Lp7Rt4Vw8Ny3Bc6Hk1"},
      {"uk_nino", "NINO AB123456C", "123456"},
      {"phone_number", "tel +44 20 7946 0958", "7946"},
  };
  for (const auto& s : samples) {
    auto db = testing::compile_ok({testing::identifier(s.identifier, Confidence::low)});
    ASSERT_TRUE(db);
    Scanner scanner(db);
    const auto found = scan_ok(scanner, s.text);
    ASSERT_EQ(found.size(), 1u) << s.identifier << ": " << s.text;
    for (const auto& f : found[0].findings) {
      EXPECT_EQ(f.masked.find(s.secret), std::string::npos) << s.identifier << " -> " << f.masked;
      const std::string matched = s.text.substr(f.begin, f.end - f.begin);
      EXPECT_EQ(f.masked.find(matched), std::string::npos) << s.identifier << " -> " << f.masked;
      const bool visibly_masked =
          f.masked.find('*') != std::string::npos || f.masked.find("[masked]") != std::string::npos;
      EXPECT_TRUE(visibly_masked) << s.identifier << " -> " << f.masked;
    }
  }
}

}  // namespace
}  // namespace cordon::detect
