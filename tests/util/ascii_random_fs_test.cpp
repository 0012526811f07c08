// Unit tests of util's ascii, random and fs helpers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "util/ascii.hpp"
#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::util {
namespace {

TEST(Ascii, ComparesCaseInsensitivelyOnAsciiOnly) {
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("\xc3\x84", "\xc3\xa4"));  // non-ASCII bytes compare as bytes
  EXPECT_TRUE(istarts_with("MAIL FROM:<a@b>", "mail from:"));
  EXPECT_TRUE(iends_with("user@Corp.Example", "@corp.example"));
  EXPECT_EQ(to_lower("MiXeD-42"), "mixed-42");
  EXPECT_EQ(trim(" \t value \t"), "value");
}

// The prefix before the first byte above 0x7F, wherever it falls in the
// 128-, 32- and 8-byte steps and the byte tail, and at any alignment.
TEST(Ascii, AsciiPrefixLengthStopsAtTheFirstHighByteWhereverItIs) {
  std::string text(600, 'a');
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t size : {0u, 1u, 7u, 8u, 31u, 32u, 127u, 128u, 129u, 300u, 584u}) {
      std::string_view all(text.data() + offset, size);
      EXPECT_EQ(ascii_prefix_length(all), size);
      for (std::size_t high = 0; high < size; ++high) {
        for (char c : {'\x80', '\xff', '\xc3'}) {
          text[offset + high] = c;
          EXPECT_EQ(ascii_prefix_length(all), high) << offset << " " << size;
          text[offset + high] = 'a';
        }
      }
    }
  }
}

// The first digit or `also` from a start, wherever it falls in the 64-byte
// (AVX2), 16-byte (SSE2) and byte steps, at any alignment; bytes beside the
// digits ('/' and ':', and high bytes that wrap in the subtraction) are not
// digits.
TEST(Ascii, FindDigitOrFindsTheFirstDigitOrTheOtherByte) {
  std::string text(300, 'x');
  for (std::size_t i = 0; i < text.size(); i += 3) text[i] = "/:\xff\x80 "[i % 5];
  for (std::size_t offset : {0u, 1u, 5u, 17u}) {
    std::string_view all(text.data() + offset, text.size() - offset);
    EXPECT_EQ(find_digit_or(all, 0, '@'), all.size());
    for (std::size_t at : {0u, 1u, 15u, 16u, 31u, 63u, 64u, 65u, 130u, 200u}) {
      if (at >= all.size()) continue;
      for (char c : {'0', '5', '9', '@'}) {
        char& slot = text[offset + at];
        const char was = slot;
        slot = c;
        EXPECT_EQ(find_digit_or(all, 0, '@'), at) << offset << " " << at << " " << c;
        EXPECT_EQ(find_digit_or(all, at, '@'), at);
        EXPECT_EQ(find_digit_or(all, at + 1, '@'), all.size());
        // Digits only: '@' is not looked for.
        EXPECT_EQ(find_digit_or(all, 0, '0'), c == '@' ? all.size() : at);
        slot = was;
      }
    }
  }
  EXPECT_EQ(find_digit_or("abc", 7, '@'), 3u);
}

TEST(Random, HexHasTwoDigitsPerByteAndDiffersBetweenCalls) {
  auto a = random_hex(16), b = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_u64());
  EXPECT_EQ(seen.size(), 100u);
}

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("cordon-util-fs-" + random_hex(6));
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

TEST_F(FsTest, AtomicReplaceLeavesOnlyTheNewFileWithItsMode) {
  ASSERT_TRUE(atomic_replace(dir, "f", "one"));
  ASSERT_TRUE(atomic_replace(dir, "f", "two", 0640));
  EXPECT_EQ(*read_file(dir / "f"), "two");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "f").c_str(), &st), 0);
  EXPECT_EQ(
      st.st_mode & 0777, 0640u & ~[] {
        mode_t m = ::umask(0);
        ::umask(m);
        return m;
      }());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

TEST_F(FsTest, CreateFileDurablyRefusesAnExistingFile) {
  ASSERT_TRUE(create_file_durably(dir / "k", "secret"));
  auto again = create_file_durably(dir / "k", "other");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().err, EEXIST);
  EXPECT_EQ(*read_file(dir / "k"), "secret");
}

TEST_F(FsTest, ErrorsNameThePathAndKeepErrno) {
  auto missing = read_file(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().err, ENOENT);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  EXPECT_FALSE(missing.error().no_space());
  EXPECT_TRUE(fs_error(ENOSPC, "write", dir).no_space());
}

TEST_F(FsTest, RenameDurablyMovesTheFile) {
  ASSERT_TRUE(atomic_replace(dir, "a", "x"));
  std::filesystem::create_directories(dir / "sub");
  ASSERT_TRUE(rename_durably(dir / "a", dir / "sub" / "b"));
  EXPECT_EQ(*read_file(dir / "sub" / "b"), "x");
  EXPECT_TRUE(free_bytes(dir).has_value());
}

}  // namespace
}  // namespace cordon::util
