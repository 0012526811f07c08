// Block reply builder: exact output for small cases, limits for large ones,
// and randomised property checks that every reply is RFC 5321-conformant.
#include "smtp/reply_builder.hpp"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

using cordon::smtp::BlockReplyError;
using cordon::smtp::BlockReplyOptions;
using cordon::smtp::build_block_reply;
using cordon::smtp::sanitize_reply_text;

namespace {

const std::string kLongText =
    "This message has been blocked because it contains sensitive information that violates the "
    "company's data loss prevention policy. If you believe this is an error, please contact the "
    "security team at security@example.com and quote the incident identifier shown below for "
    "reference.";

std::vector<std::string> split_lines(const std::string& reply) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < reply.size()) {
    std::size_t end = reply.find("\r\n", pos);
    if (end == std::string::npos) {
      lines.push_back(reply.substr(pos));  // unterminated: the checks below will flag it
      break;
    }
    lines.push_back(reply.substr(pos, end + 2 - pos));
    pos = end + 2;
  }
  return lines;
}

std::string build(const std::vector<std::string>& texts, std::uint64_t id,
                  const BlockReplyOptions& options = {}) {
  auto r = build_block_reply(texts, id, options);
  EXPECT_TRUE(r.has_value());
  return r.has_value() ? r.value() : std::string();
}

// The structural contract: line grammar, one code, continuation markers,
// per-line and total limits, incident id present.
void expect_conformant(const std::string& reply, std::uint64_t id, const BlockReplyOptions& o) {
  const std::string code = std::to_string(o.code);
  std::string enh_re;
  for (char c : o.enhanced) enh_re += c == '.' ? std::string("\\.") : std::string(1, c);
  const std::regex line_re("^" + code + "[- ]" + enh_re + " [\\x20-\\x7e]*\r\n$");
  auto lines = split_lines(reply);
  ASSERT_GE(lines.size(), 2u) << reply;
  EXPECT_LE(reply.size(), o.max_reply_bytes);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    EXPECT_TRUE(std::regex_match(line, line_re)) << "line " << i << ": " << line;
    EXPECT_LE(line.size(), o.max_line_bytes) << line;
    EXPECT_EQ(line[3], i + 1 == lines.size() ? ' ' : '-') << line;
  }
  EXPECT_NE(reply.find("Incident ID: " + std::to_string(id) + "\r\n"), std::string::npos);
}

}  // namespace

TEST(BlockReply, OneTextGivesIdLineThenTextExactly) {
  EXPECT_EQ(build({"Contains payment card data."}, 1234),
            "550-5.7.0 Incident ID: 1234\r\n"
            "550 5.7.0 Contains payment card data.\r\n");
}

TEST(BlockReply, TwoTextsKeepRuleOrderExactly) {
  EXPECT_EQ(build({"Card numbers found.", "Confidential keyword found."}, 7),
            "550-5.7.0 Incident ID: 7\r\n"
            "550-5.7.0 Card numbers found.\r\n"
            "550 5.7.0 Confidential keyword found.\r\n");
}

TEST(BlockReply, NoTextsGiveTheGenericText) {
  EXPECT_EQ(build({}, 9),
            "550-5.7.0 Incident ID: 9\r\n"
            "550 5.7.0 Message rejected by the data loss prevention policy.\r\n");
  EXPECT_EQ(build({"", " \r\n\t", "\x01\x02"}, 9), build({}, 9));
}

TEST(BlockReply, CustomCodeAndEnhancedCodeOnEveryLine) {
  BlockReplyOptions o;
  o.code = 554;
  o.enhanced = "5.7.1";
  EXPECT_EQ(build({"a", "b"}, 1, o), "554-5.7.1 Incident ID: 1\r\n554-5.7.1 a\r\n554 5.7.1 b\r\n");
  o.code = 451;
  o.enhanced = "4.7.0";
  EXPECT_EQ(build({"try later"}, 2, o), "451-4.7.0 Incident ID: 2\r\n451 4.7.0 try later\r\n");
}

TEST(BlockReply, CrlfInjectionCannotStartANewReplyLine) {
  const std::string reply = build({"ok\r\n250 2.0.0 fake"}, 5);
  EXPECT_EQ(reply, "550-5.7.0 Incident ID: 5\r\n550 5.7.0 ok 250 2.0.0 fake\r\n");
  EXPECT_EQ(reply.find("\r\n250"), std::string::npos);
  EXPECT_EQ(build({"a\rb\nc\r\n\r\nd"}, 5), "550-5.7.0 Incident ID: 5\r\n550 5.7.0 a b c d\r\n");
}

TEST(BlockReply, Utf8BecomesOneQuestionMarkPerCodePoint) {
  // é (2 bytes), € (3 bytes), 😀 (4 bytes)
  EXPECT_EQ(sanitize_reply_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80!"), "caf? ? ?!");
  EXPECT_EQ(build({"Gr\xC3\xBC\xC3\x9F"
                   "e"},
                  3),
            "550-5.7.0 Incident ID: 3\r\n550 5.7.0 Gr??e\r\n");
}

TEST(BlockReply, InvalidBytesBecomeOneQuestionMarkEach) {
  EXPECT_EQ(sanitize_reply_text("a\xFF\xFE"
                                "b"),
            "a??b");
  EXPECT_EQ(sanitize_reply_text("\xC3"), "?");            // truncated sequence
  EXPECT_EQ(sanitize_reply_text("\xC0\xAF"), "??");       // overlong '/'
  EXPECT_EQ(sanitize_reply_text("\xED\xA0\x80"), "???");  // surrogate half
  EXPECT_EQ(sanitize_reply_text("\xE2\x82"
                                "x"),
            "??x");  // sequence cut short by ASCII
}

TEST(BlockReply, ControlCharactersAreRemovedAndWhiteSpaceFolded) {
  const std::string noisy = std::string("  a") + '\0' + "b\x1b[31m \x7f c\t\t d  ";
  EXPECT_EQ(sanitize_reply_text(noisy), "ab[31m c d");
  EXPECT_EQ(sanitize_reply_text(std::string("x\0y", 3)), "xy");
}

TEST(BlockReply, IdenticalTextsAppearOnceComparedAfterSanitisingAndIgnoringCase) {
  EXPECT_EQ(build({"Card data found.", "card  DATA found.", "Card data\r\nfound.", "Other."}, 11),
            "550-5.7.0 Incident ID: 11\r\n"
            "550-5.7.0 Card data found.\r\n"
            "550 5.7.0 Other.\r\n");
}

TEST(BlockReply, LongTextRepeatedByEightRulesAppearsOnce) {
  std::vector<std::string> texts(8, kLongText);
  const std::string reply = build(texts, 424242);
  expect_conformant(reply, 424242, {});
  EXPECT_EQ(reply, "550-5.7.0 Incident ID: 424242\r\n550 5.7.0 " + kLongText + "\r\n");
}

TEST(BlockReply, EightDistinctLongTextsAreCutWithACountOfTheRest) {
  std::vector<std::string> texts;
  for (int i = 1; i <= 8; ++i) texts.push_back("Rule " + std::to_string(i) + ": " + kLongText);
  const std::string reply = build(texts, 99);
  expect_conformant(reply, 99, {});
  // id line 27 + 3 text lines of 291 bytes + overflow line 38 = 938 <= 1000;
  // a fourth text line would need 1229.
  auto lines = split_lines(reply);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1].substr(0, 18), "550-5.7.0 Rule 1: ");
  EXPECT_EQ(lines[3].substr(0, 18), "550-5.7.0 Rule 3: ");
  EXPECT_EQ(lines[4], "550 5.7.0 ... and 5 more violations\r\n");
}

TEST(BlockReply, LongTextWrapsOnWordsWithinAShortLineLimit) {
  BlockReplyOptions o;
  o.max_line_bytes = 80;
  const std::string reply = build({kLongText}, 1, o);
  expect_conformant(reply, 1, o);
  auto lines = split_lines(reply);
  ASSERT_GT(lines.size(), 4u);
  // Rejoining the bodies restores the text: wrapping only splits at spaces.
  std::string rejoined;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (!rejoined.empty()) rejoined += ' ';
    rejoined += lines[i].substr(10, lines[i].size() - 12);
  }
  EXPECT_EQ(rejoined, kLongText);
  // Greedy packing: the next word would not have fit on the previous line.
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    std::string next = lines[i + 1].substr(10);
    std::string first_word = next.substr(0, next.find_first_of(" \r"));
    EXPECT_GT(lines[i].size() + 1 + first_word.size(), o.max_line_bytes) << lines[i];
  }
}

TEST(BlockReply, WordLongerThanALineIsHardSplit) {
  BlockReplyOptions o;
  o.max_line_bytes = 64;  // 52 characters of text per line
  const std::string word(120, 'x');
  EXPECT_EQ(build({"see " + word + " end"}, 2, o),
            "550-5.7.0 Incident ID: 2\r\n"
            "550-5.7.0 see\r\n"
            "550-5.7.0 " +
                std::string(52, 'x') + "\r\n" + "550-5.7.0 " + std::string(52, 'x') + "\r\n" +
                "550 5.7.0 " + std::string(16, 'x') + " end\r\n");
}

TEST(BlockReply, FiftyTextsFitTheBudgetAndCountTheRest) {
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i)
    texts.push_back("Policy " + std::to_string(i) + " forbids sending customer records.");
  const std::string reply = build(texts, 18446744073709551615ull);
  expect_conformant(reply, 18446744073709551615ull, {});
  auto lines = split_lines(reply);
  // Each text line is 10 + 41 or 42 + 2 bytes; the id line 42 bytes.
  const std::size_t shown = lines.size() - 2;
  EXPECT_EQ(lines.back(),
            "550 5.7.0 ... and " + std::to_string(50 - shown) + " more violations\r\n");
  EXPECT_EQ(lines[1], "550-5.7.0 Policy 0 forbids sending customer records.\r\n");
  EXPECT_EQ(lines[shown], "550-5.7.0 Policy " + std::to_string(shown - 1) +
                              " forbids sending customer records.\r\n");
  // One more text line would have broken the budget.
  EXPECT_GT(reply.size() + 54, 1000u);
}

TEST(BlockReply, EightTextsFitWholly) {
  std::vector<std::string> texts;
  for (int i = 0; i < 8; ++i) texts.push_back("Violation number " + std::to_string(i) + ".");
  const std::string reply = build(texts, 8);
  expect_conformant(reply, 8, {});
  auto lines = split_lines(reply);
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[8], "550 5.7.0 Violation number 7.\r\n");
  EXPECT_EQ(reply.find("more violation"), std::string::npos);
}

TEST(BlockReply, OverflowCountsDuplicateAndEmptyRulesOfLeftOutTexts) {
  BlockReplyOptions o;
  o.max_reply_bytes = 160;
  // "first" fits; "second" (three rules) and an empty rule are left out.
  const std::string big(130, 'y');
  const std::string reply = build({"first", big, big, "", big}, 1, o);
  EXPECT_EQ(reply,
            "550-5.7.0 Incident ID: 1\r\n"
            "550-5.7.0 first\r\n"
            "550 5.7.0 ... and 4 more violations\r\n");
  EXPECT_EQ(build({big, "x"}, 1, o),
            "550-5.7.0 Incident ID: 1\r\n"
            "550 5.7.0 ... and 2 more violations\r\n");
  EXPECT_EQ(build({"a", big}, 1, o),
            "550-5.7.0 Incident ID: 1\r\n"
            "550-5.7.0 a\r\n"
            "550 5.7.0 ... and 1 more violation\r\n");
}

TEST(BlockReply, TextOrderIsPreservedEvenWhenALaterShortTextWouldFit) {
  BlockReplyOptions o;
  o.max_reply_bytes = 160;
  const std::string reply = build({std::string(150, 'z'), "short"}, 1, o);
  EXPECT_EQ(reply.find("short"), std::string::npos);
  EXPECT_NE(reply.find("and 2 more violations"), std::string::npos);
}

TEST(BlockReply, InvalidOptionsAreRejected) {
  auto error_of = [](BlockReplyOptions o) {
    auto r = build_block_reply(std::vector<std::string>{"x"}, 1, o);
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? BlockReplyError{} : r.error();
  };
  BlockReplyOptions o;
  o.code = 250;
  EXPECT_EQ(error_of(o), BlockReplyError::code_out_of_range);
  o.code = 600;
  EXPECT_EQ(error_of(o), BlockReplyError::code_out_of_range);
  o.code = 570;  // second digit above 5
  EXPECT_EQ(error_of(o), BlockReplyError::code_out_of_range);
  o = {};
  o.code = 450;
  EXPECT_EQ(error_of(o), BlockReplyError::enhanced_class_mismatch);
  for (const char* bad : {"5.7", "5.7.", "57.0", "5.7.0 ", "5.1234.0", "x.7.0", "5..0", ""}) {
    o = {};
    o.enhanced = bad;
    EXPECT_EQ(error_of(o), BlockReplyError::enhanced_malformed) << bad;
  }
  o = {};
  o.max_line_bytes = 63;
  EXPECT_EQ(error_of(o), BlockReplyError::line_limit_out_of_range);
  o.max_line_bytes = 513;
  EXPECT_EQ(error_of(o), BlockReplyError::line_limit_out_of_range);
  o = {};
  o.max_reply_bytes = cordon::smtp::min_reply_bytes(o) - 1;
  EXPECT_EQ(error_of(o), BlockReplyError::reply_limit_too_small);
  o.max_reply_bytes += 1;
  EXPECT_TRUE(build_block_reply(std::vector<std::string>{"x"}, 1, o).has_value());
  EXPECT_FALSE(cordon::smtp::describe(BlockReplyError::reply_limit_too_small).empty());
}

TEST(BlockReply, SmallestAcceptedBudgetStillNamesTheIncidentForHugeIds) {
  BlockReplyOptions o;
  o.max_line_bytes = 64;
  o.enhanced = "5.123.456";
  o.max_reply_bytes = cordon::smtp::min_reply_bytes(o);
  std::vector<std::string> texts(30, std::string(200, 'q'));
  for (std::size_t i = 0; i < texts.size(); ++i) texts[i] += std::to_string(i);
  const std::string reply = build(texts, 18446744073709551615ull, o);
  expect_conformant(reply, 18446744073709551615ull, o);
  EXPECT_NE(reply.find("and 30 more violations"), std::string::npos);
  expect_conformant(build({}, 18446744073709551615ull, o), 18446744073709551615ull, o);
}

TEST(BlockReply, RandomInputsAlwaysGiveConformantReplies) {
  std::mt19937_64 rng(20240607);
  auto pick = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  const std::vector<std::string> alphabet = {"a",
                                             "Z",
                                             "0",
                                             " ",
                                             "  ",
                                             "\r\n",
                                             "\r",
                                             "\n",
                                             "\t",
                                             "\x01",
                                             "\x7f",
                                             "\xC3\xA9",
                                             "\xE2\x82\xAC",
                                             "\xF0\x9F\x98\x80",
                                             "\xFF",
                                             "\xC3",
                                             "-",
                                             ".",
                                             "550 ",
                                             "@",
                                             "word"};
  for (int iteration = 0; iteration < 1500; ++iteration) {
    BlockReplyOptions o;
    o.code = static_cast<int>(pick(0, 1) ? 550 + pick(0, 4) : 450 + pick(0, 4));
    o.enhanced = std::to_string(o.code / 100) + "." + std::to_string(pick(0, 999)) + "." +
                 std::to_string(pick(0, 99));
    o.max_line_bytes = pick(64, 512);
    o.max_reply_bytes = pick(cordon::smtp::min_reply_bytes(o), 3000);
    std::vector<std::string> texts(pick(0, 60));
    for (auto& t : texts) {
      const std::size_t pieces = pick(0, 3) == 0 ? pick(100, 400) : pick(0, 30);
      for (std::size_t p = 0; p < pieces; ++p) t += alphabet[pick(0, alphabet.size() - 1)];
    }
    if (texts.size() > 3 && pick(0, 1)) texts[texts.size() - 1] = texts[0];  // a duplicate
    const std::uint64_t id = pick(0, 3) ? pick(1, 1000000) : 18446744073709551615ull;
    auto r = build_block_reply(texts, id, o);
    ASSERT_TRUE(r.has_value()) << o.code << " " << o.enhanced;
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    expect_conformant(r.value(), id, o);
    // When texts are left out, the count is positive and no more than the rules.
    std::smatch m;
    const std::regex more_re("\\.\\.\\. and ([0-9]+) more violations?\r\n$");
    if (std::regex_search(r.value(), m, more_re)) {
      const std::size_t n = std::stoul(m[1].str());
      EXPECT_GE(n, 1u);
      EXPECT_LE(n, texts.size());
    }
  }
}
