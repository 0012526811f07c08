// Match context snippets: a few words either side, the value masked, every
// other finding in reach masked too, whole words and UTF-8 at the edges.
#include <gtest/gtest.h>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::compile_ok;
using testing::identifier;
using testing::regex;

std::vector<RuleFindings> scan(const std::vector<Rule>& rules, std::string_view text) {
  auto db = compile_ok(rules);
  Scanner scanner(db);
  auto found = scanner.scan(text);
  EXPECT_TRUE(found.has_value());
  return found ? *found : std::vector<RuleFindings>{};
}

TEST(DetectContext, ShowsWordsAroundTheMaskedValue) {
  const std::string text =
      "Hello Bob,\n\nplease charge the card 4111 1111 1111 1111 for the March invoice, "
      "and keep the receipt for accounting. Thanks, Alice";
  auto found = scan({identifier("credit_card")}, text);
  ASSERT_EQ(found.size(), 1u);
  const auto& f = found[0].findings.at(0);
  auto snippet = masked_context(text, f, found);
  EXPECT_NE(snippet.find(f.masked), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("charge the card"), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("for the March"), std::string::npos) << snippet;
  EXPECT_EQ(snippet.find("1111 1111 1111"), std::string::npos) << snippet;
  EXPECT_EQ(snippet.find('\n'), std::string::npos);
  EXPECT_TRUE(snippet.starts_with("…")) << snippet;
  EXPECT_TRUE(snippet.ends_with("…")) << snippet;
  // Whole words: the snippet starts after a space of the text.
  auto body = snippet.substr(std::string("…").size());
  EXPECT_NE(text.find(" " + body.substr(0, body.find(' '))), std::string::npos) << snippet;
  EXPECT_LE(snippet.size(), kContextWidth + 2 * std::string("…").size());
}

TEST(DetectContext, MasksEveryOtherFindingInTheSnippet) {
  const std::string text = "cards 4111111111111111 and 5500000000000004 ref ACME-123456 both";
  auto found = scan({identifier("credit_card"), regex("ACME-[0-9]{6}")}, text);
  ASSERT_FALSE(found.empty());
  for (const auto& rule : found)
    for (const auto& f : rule.findings) {
      auto snippet = masked_context(text, f, found);
      EXPECT_EQ(snippet.find("4111111111111111"), std::string::npos) << snippet;
      EXPECT_EQ(snippet.find("5500000000000004"), std::string::npos) << snippet;
      EXPECT_EQ(snippet.find("ACME-123456"), std::string::npos) << snippet;
    }
}

TEST(DetectContext, AFindingAcrossTheEdgeEndsTheSnippet) {
  const std::string text = std::string(30, 'a') + " 4111111111111111 " + std::string(30, 'b') +
                           " x 5500000000000004 tail";
  std::vector<RuleFindings> all(1);
  Finding first{31, 47, 1, "4111********1111"};
  Finding second{82, 98, 2, "5500********0004"};
  all[0].findings = {first, second};
  auto snippet = masked_context(text, first, all, 60);
  EXPECT_NE(snippet.find("4111********1111"), std::string::npos);
  EXPECT_EQ(snippet.find("5500"), std::string::npos) << snippet;
}

TEST(DetectContext, NeverCutsAUtf8Sequence) {
  const std::string text =
      "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ 4111111111111111 ÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖÖ";
  std::vector<RuleFindings> all(1);
  const auto at = text.find("4111");
  all[0].findings = {Finding{at, at + 16, 1, "4111********1111"}};
  auto snippet = masked_context(text, all[0].findings[0], all, 40);
  // Every byte sequence is whole: no continuation byte right after the "…".
  for (std::size_t i = 0; i < snippet.size(); ++i) {
    auto c = static_cast<unsigned char>(snippet[i]);
    if ((c & 0xC0) == 0x80) {
      ASSERT_GT(i, 0u);
      EXPECT_NE(static_cast<unsigned char>(snippet[i - 1]) & 0x80, 0) << snippet;
    }
  }
  EXPECT_NE(snippet.find("4111********1111"), std::string::npos);
}

TEST(DetectContext, AnExcerptKeepsLinesMasksEveryFindingAndNeverSplitsOne) {
  const std::string text =
      "Dear Bob,\ncard 4111 1111 1111 1111 and ACME-123456\nbye 5500000000000004";
  auto found = scan({identifier("credit_card"), regex("ACME-[0-9]{6}")}, text);
  auto whole = masked_excerpt(text, found, 1000);
  EXPECT_TRUE(whole.starts_with("Dear Bob,\ncard 4111********1111 and ")) << whole;
  EXPECT_EQ(whole.find("1111 1111 1111"), std::string::npos) << whole;
  EXPECT_EQ(whole.find("ACME-123456"), std::string::npos) << whole;
  EXPECT_EQ(whole.find("5500000000000004"), std::string::npos) << whole;
  // A cut inside the last card leaves it out whole.
  auto cut = masked_excerpt(text, found, text.size() - 3);
  EXPECT_TRUE(cut.ends_with("\nbye ")) << cut;
}

}  // namespace
}  // namespace cordon::detect
