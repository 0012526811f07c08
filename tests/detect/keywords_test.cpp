// Keyword and regex rules: whole words with Unicode-aware boundaries,
// case-insensitivity beyond ASCII, flexible white space in phrases, exact
// offsets, and leftmost-longest reduction of regex matches.
#include <gtest/gtest.h>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::scan_ok;

using testing::keywords;
using testing::matches;
using testing::regex;
using V = std::vector<std::string>;

TEST(DetectKeywords, MatchWholeWordsOnly) {
  const auto rule = keywords({"confidential"});
  EXPECT_TRUE(matches(rule, "nonconfidentiality is fine").empty());
  EXPECT_TRUE(matches(rule, "confidentiality").empty());
  EXPECT_TRUE(matches(rule, "_confidential_").empty());
  EXPECT_EQ(matches(rule, "(Confidential)"), V{"Confidential"});
  EXPECT_EQ(matches(rule, "CONFIDENTIAL: see below"), V{"CONFIDENTIAL"});
  EXPECT_EQ(matches(rule, "\"confidential\"."), V{"confidential"});
  EXPECT_EQ(matches(rule, "confidential"), V{"confidential"});
}

TEST(DetectKeywords, AreCaseInsensitiveBeyondAscii) {
  EXPECT_EQ(matches(keywords({"Geheim"}), "streng GEHEIM!"), V{"GEHEIM"});
  EXPECT_EQ(matches(keywords({"confidentiel"}), "Document CONFIDENTIEL"), V{"CONFIDENTIEL"});
  EXPECT_EQ(matches(keywords({"überweisung"}), "ÜBERWEISUNG bitte"), V{"ÜBERWEISUNG"});
  EXPECT_EQ(matches(keywords({"секретно"}), "Совершенно СЕКРЕТНО."), V{"СЕКРЕТНО"});
  EXPECT_EQ(matches(keywords({"ΑΠΌΡΡΗΤΟ"}), "είναι απόρρητο"), V{"απόρρητο"});
}

// ASCII keywords are compiled as literals: the spellings that Unicode case
// folding maps onto ASCII letters must still match, with exact offsets.
TEST(DetectKeywords, AsciiKeywordsMatchUnicodeCaseFoldedSpellings) {
  const auto rule = keywords({"kiss", "secret"});
  EXPECT_EQ(matches(rule, "a \u212Aiss and a ki\u017F\u017F."), (V{"\u212Aiss", "ki\u017F\u017F"}));
  EXPECT_EQ(matches(rule, "top \u017FECRET now"), V{"\u017FECRET"});
  EXPECT_TRUE(matches(rule, "\u00E9kiss").empty()) << "a letter before it";
  EXPECT_EQ(matches(rule, "KISS kIsS"), (V{"KISS", "kIsS"}));
  // More foldable letters than are spelled out as literals: an expression.
  EXPECT_EQ(matches(keywords({"sksksks"}), "x SK\u017Fk\u017F\u212AS y"),
            V{"SK\u017Fk\u017F\u212AS"});
}

// The literal compile relies on Vectorscan folding exactly these two
// non-ASCII code points onto ASCII letters; a Vectorscan that folds more
// would make literals miss what the Unicode caseless expression matches.
TEST(DetectKeywords, VectorscanFoldsOnlyKelvinAndLongSOntoAscii) {
  std::string all;
  auto append = [&](char32_t cp) {
    if (cp < 0x800) {
      all.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    } else if (cp < 0x10000) {
      all.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    } else {
      all.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    }
    all.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    all += " 0 ";
  };
  // Fullwidth forms are folded to ASCII before matching, so literals and
  // expressions see the same ASCII there: they are left out.
  for (char32_t cp = 0x80; cp < 0x20000; ++cp)
    if ((cp < 0xD800 || cp > 0xDFFF) && (cp < 0xFF01 || cp > 0xFF5E)) append(cp);
  // Phrases stay Unicode caseless expressions: "<letter> 0" sees every
  // code point that folds onto one of the 26 letters.
  V phrases;
  for (char c = 'a'; c <= 'z'; ++c) phrases.push_back(std::string(1, c) + " 0");
  const V found = matches(keywords(phrases), all);
  EXPECT_EQ(found, (V{"\u017F 0", "\u212A 0"}));
}

TEST(DetectKeywords, RespectUnicodeLettersAtBoundaries) {
  // "berweisung" inside "Überweisung": Ü is a letter, not a boundary.
  EXPECT_TRUE(matches(keywords({"berweisung"}), "Überweisung").empty());
  EXPECT_TRUE(matches(keywords({"geheim"}), "geheimé").empty());
  EXPECT_TRUE(matches(keywords({"секрет"}), "секретно").empty());
  // Non-ASCII punctuation and spaces are boundaries.
  EXPECT_EQ(matches(keywords({"geheim"}), "«geheim»"), V{"geheim"});
  EXPECT_EQ(matches(keywords({"geheim"}), "\u00A0geheim\u2014"), V{"geheim"});
  EXPECT_EQ(matches(keywords({"機密"}), "これは機密。"), V{"機密"}) << "CJK has no spaces";
}

TEST(DetectKeywords, PhrasesMatchAnyWhiteSpace) {
  const auto rule = keywords({"project neptune"});
  EXPECT_EQ(matches(rule, "re: project\n  Neptune update"), V{"project\n  Neptune"});
  EXPECT_EQ(matches(rule, "PROJECT\tNEPTUNE"), V{"PROJECT\tNEPTUNE"});
  EXPECT_TRUE(matches(rule, "projectneptune").empty());
  EXPECT_TRUE(matches(rule, "project-neptune").empty());
  EXPECT_TRUE(matches(rule, "subproject neptune").empty());
}

TEST(DetectKeywords, PunctuationInKeywordsIsLiteral) {
  EXPECT_EQ(matches(keywords({"cc#"}), "the cc# is"), V{"cc#"});
  EXPECT_EQ(matches(keywords({"c++"}), "we use C++."), V{"C++"});
  EXPECT_TRUE(matches(keywords({"a.b"}), "axb").empty());
  EXPECT_EQ(matches(keywords({"(internal)"}), "x (internal) y"), V{"(internal)"});
}

TEST(DetectKeywords, ReportOffsetsAndOneHashPerSpelling) {
  auto db = testing::compile_ok({keywords({"secret", "project neptune"})});
  Scanner scanner(db);
  const std::string text = "a Secret and SECRET; Project  Neptune, project neptune";
  const auto found = scan_ok(scanner, text);
  ASSERT_EQ(found.size(), 1u);
  const auto& f = found[0].findings;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].begin, 2u);
  EXPECT_EQ(f[0].end, 8u);
  EXPECT_EQ(f[0].value_hash, f[1].value_hash);
  EXPECT_EQ(f[2].value_hash, f[3].value_hash);
  EXPECT_NE(f[0].value_hash, f[2].value_hash);
  EXPECT_EQ(f[0].masked, "Secret");
}

TEST(DetectKeywords, OverlappingKeywordsYieldTheLongest) {
  EXPECT_EQ(matches(keywords({"project", "project neptune"}), "project neptune"),
            V{"project neptune"});
}

TEST(DetectRegex, ReportsLeftmostLongestMatches) {
  EXPECT_EQ(matches(regex("ACME-[0-9]{6}"), "ref ACME-123456 and ACME-654321x"),
            (V{"ACME-123456", "ACME-654321"}));
  EXPECT_EQ(matches(regex("[0-9]{4,}"), "a 1234567 b 12 c 98765"), (V{"1234567", "98765"}));
  EXPECT_TRUE(matches(regex("acme-[0-9]{6}"), "ACME-123456").empty()) << "case-sensitive";
  EXPECT_EQ(matches(regex("(?i)acme-[0-9]{6}"), "ACME-123456"), V{"ACME-123456"});
}

TEST(DetectRegex, SamplesAreMasked) {
  auto db = testing::compile_ok({regex("ACME-[0-9]{6}")});
  Scanner scanner(db);
  const auto found = scan_ok(scanner, "ACME-123456");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).masked, "AC*********");
}

TEST(DetectScanner, ReportsRulesInOrderAndOnlyThoseWithFindings) {
  auto db = testing::compile_ok({keywords({"alpha"}), keywords({"beta"}), regex("gam+a"),
                                 testing::identifier("credit_card")});
  Scanner scanner(db);
  const auto found = scan_ok(scanner, "gamma and alpha and 4111111111111111");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].rule_index, 0u);
  EXPECT_EQ(found[1].rule_index, 2u);
  EXPECT_EQ(found[2].rule_index, 3u);
  EXPECT_TRUE(scan_ok(scanner, "").empty());
  EXPECT_TRUE(scan_ok(scanner, "nothing here").empty());
}

TEST(DetectScanner, ScansInvalidUtf8WithOffsetsIntoTheOriginal) {
  auto db = testing::compile_ok({keywords({"secret"})});
  Scanner scanner(db);
  const std::string text = "\xff\xfe secret \xc3";
  const auto found = scan_ok(scanner, text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].findings.at(0).begin, 3u);
  EXPECT_EQ(found[0].findings.at(0).end, 9u);
}

TEST(DetectScanner, ScannersShareOneDatabaseAndCanBeMoved) {
  auto db = testing::compile_ok({keywords({"alpha"})});
  Scanner first(db);
  Scanner second(db);
  EXPECT_EQ(scan_ok(first, "alpha").size(), 1u);
  Scanner moved(std::move(second));
  EXPECT_EQ(scan_ok(moved, "x alpha").size(), 1u);
  EXPECT_EQ(scan_ok(first, "beta").size(), 0u);
}

TEST(DetectScanner, AnEngineFailureIsAnErrorNotAnEmptyResult) {
  auto db = testing::compile_ok({keywords({"alpha"})});
  Scanner scanner(db, [](std::string_view text) { return text.find("FAILME") != text.npos; });
  auto failed = scanner.scan("alpha FAILME");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ScanErrorCode::engine);
  EXPECT_NE(failed.error().detail.find("hs_scan"), std::string::npos);
  // The scanner is not left broken by a failed scan.
  EXPECT_EQ(scan_ok(scanner, "alpha").size(), 1u);
}

TEST(DetectScanner, ASupportScanStoppedByItsCallbackIsNoError) {
  // on_support ends its scan at the first supporting keyword
  // (HS_SCAN_TERMINATED): that is success, and the finding stands.
  auto db = testing::compile_ok({testing::identifier("credit_card", Confidence::high, {}, 40)});
  Scanner scanner(db);
  auto found = scanner.scan("card card card 4111111111111111");
  ASSERT_TRUE(found) << found.error().detail;
  ASSERT_EQ(found->size(), 1u);
}

TEST(DetectScanner, NoRulesIsNothingToFindNotAnError) {
  Scanner scanner(nullptr);
  auto found = scanner.scan("anything");
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
}

}  // namespace
}  // namespace cordon::detect
