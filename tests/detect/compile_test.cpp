// compile(): errors map back to the offending rule, and the serialised
// database cache is written, reused, and survives corruption.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "detect_test_support.hpp"

namespace cordon::detect {
namespace {

using testing::scan_ok;

using testing::identifier;
using testing::keywords;
using testing::regex;

TEST(DetectCompile, RejectsRegexesVectorscanCannotCompile) {
  for (const char* bad : {"(a)\\1", "foo(?=bar)", "(?<!x)y", "[unclosed", ""}) {
    auto db = compile({keywords({"fine"}), regex("ok[0-9]+"), regex(bad)});
    ASSERT_FALSE(db) << bad;
    EXPECT_EQ(db.error().code, CompileErrorCode::bad_regex) << bad;
    EXPECT_EQ(db.error().rule_index, 2u) << bad;
    EXPECT_FALSE(db.error().reason.empty());
  }
}

TEST(DetectCompile, ReportsVectorscansMessage) {
  auto db = compile({regex("(a)\\1")});
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().reason.find("eference"), std::string::npos) << db.error().reason;
}

TEST(DetectCompile, RejectsUnknownIdentifiersAndEmptyKeywords) {
  auto unknown = compile({keywords({"x"}), identifier("credit_card"), identifier("passport")});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, CompileErrorCode::unknown_identifier);
  EXPECT_EQ(unknown.error().rule_index, 2u);

  auto empty = compile({keywords({"ok", "  "})});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, CompileErrorCode::bad_keyword);

  auto no_words = compile({Rule{KeywordRule{}}});
  ASSERT_FALSE(no_words);
  EXPECT_EQ(no_words.error().code, CompileErrorCode::bad_keyword);

  auto bad_utf8 = compile({keywords({"\xc3("})});
  ASSERT_FALSE(bad_utf8);
  EXPECT_EQ(bad_utf8.error().code, CompileErrorCode::bad_keyword);
}

TEST(DetectCompile, AcceptsEveryListedIdentifierTogether) {
  std::vector<Rule> rules;
  for (const auto& name : identifier_names()) rules.push_back(identifier(name, Confidence::high));
  EXPECT_EQ(identifier_names().size(), 10u);
  auto db = compile(rules);
  ASSERT_TRUE(db) << db.error().reason;
  EXPECT_GT(describe(**db).pattern_count, rules.size());
}

TEST(DetectCompile, AnEmptyRuleSetScansToNothing) {
  auto db = compile({});
  ASSERT_TRUE(db);
  Scanner scanner(*db);
  EXPECT_TRUE(scan_ok(scanner, "4111111111111111 confidential").empty());
}

class DetectCompileCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cordon-detect-cache-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  const std::vector<Rule> rules_ = {keywords({"confidential", "project neptune"}),
                                    regex("ACME-[0-9]{6}"), identifier("credit_card")};
};

TEST_F(DetectCompileCache, SecondCompileLoadsTheSerialisedDatabase) {
  auto first = compile(rules_, dir_);
  ASSERT_TRUE(first);
  const auto info = describe(**first);
  EXPECT_FALSE(info.loaded_from_cache);
  ASSERT_TRUE(std::filesystem::exists(info.cache_file));
  EXPECT_EQ(info.cache_file.parent_path(), dir_);

  auto second = compile(rules_, dir_);
  ASSERT_TRUE(second);
  EXPECT_TRUE(describe(**second).loaded_from_cache);
  EXPECT_EQ(describe(**second).cache_file, info.cache_file);

  const std::string text = "Confidential: ACME-123456, card 4111-1111-1111-1111";
  Scanner a(*first), b(*second);
  const auto fa = scan_ok(a, text), fb = scan_ok(b, text);
  ASSERT_EQ(fa.size(), 3u);
  ASSERT_EQ(fb.size(), fa.size());
  for (std::size_t i = 0; i < fa.size(); ++i) {
    ASSERT_EQ(fa[i].findings.size(), fb[i].findings.size());
    EXPECT_EQ(fa[i].findings[0].begin, fb[i].findings[0].begin);
    EXPECT_EQ(fa[i].findings[0].value_hash, fb[i].findings[0].value_hash);
  }
}

TEST_F(DetectCompileCache, KeyChangesWithPatternsAndOrder) {
  auto base = compile(rules_, dir_);
  auto reordered = compile({rules_[1], rules_[0], rules_[2]}, dir_);
  auto changed = compile({keywords({"confidential"}), rules_[1], rules_[2]}, dir_);
  ASSERT_TRUE(base && reordered && changed);
  EXPECT_FALSE(describe(**reordered).loaded_from_cache);
  EXPECT_FALSE(describe(**changed).loaded_from_cache);
  EXPECT_NE(describe(**base).cache_file, describe(**reordered).cache_file);
  EXPECT_NE(describe(**base).cache_file, describe(**changed).cache_file);
}

TEST_F(DetectCompileCache, CorruptCacheFileIsRecompiledAndReplaced) {
  auto first = compile(rules_, dir_);
  ASSERT_TRUE(first);
  const auto file = describe(**first).cache_file;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a database";
  auto second = compile(rules_, dir_);
  ASSERT_TRUE(second);
  EXPECT_FALSE(describe(**second).loaded_from_cache);
  Scanner scanner(*second);
  EXPECT_EQ(scan_ok(scanner, "confidential").size(), 1u);
  auto third = compile(rules_, dir_);
  ASSERT_TRUE(third);
  EXPECT_TRUE(describe(**third).loaded_from_cache);
}

TEST_F(DetectCompileCache, UnwritableCacheDirectoryStillCompiles) {
  std::ofstream(dir_.string()) << "a file where the directory should be";
  auto db = compile(rules_, dir_ / "sub");
  ASSERT_TRUE(db);
  EXPECT_FALSE(describe(**db).loaded_from_cache);
  std::filesystem::remove(dir_);
}

}  // namespace
}  // namespace cordon::detect
