// Charset conversion to UTF-8: declared, undeclared and mislabelled text.
#include "mime/charset.hpp"

#include <gtest/gtest.h>

namespace cordon::mime::detail {
namespace {

std::string utf16le(std::u16string_view s) {
  std::string out;
  for (char16_t u : s) {
    out.push_back(static_cast<char>(u & 0xFF));
    out.push_back(static_cast<char>(u >> 8));
  }
  return out;
}

std::string utf16be(std::u16string_view s) {
  std::string out;
  for (char16_t u : s) {
    out.push_back(static_cast<char>(u >> 8));
    out.push_back(static_cast<char>(u & 0xFF));
  }
  return out;
}

// A declared name GMime maps onto glibc's UTF-8 reader, which passes on a
// four-byte form above U+10FFFF (found by the MIME fuzzer): the text is
// still valid UTF-8, the bad sequence replaced.
TEST(Charset, WhatAConverterPassesOnIsStillValidUtf8) {
  const std::string charset =
      "ut\xf1\xff\xff\xff"
      "f-8";
  const auto r = to_utf8("<\xfe\xffwd \xcf\xf5\xbc\x90\x91\x8b\x9a\x91t", charset, 1 << 20);
  EXPECT_TRUE(is_valid_utf8(r.text));
  EXPECT_EQ(r.text.find("\xf5"), std::string::npos);
  EXPECT_GT(r.replaced, 0u);
  EXPECT_EQ(r.text.substr(0, 1), "<");
  EXPECT_EQ(r.text.back(), 't');
}

TEST(Charset, Iso88591IsConverted) {
  auto r = to_utf8("caf\xE9 cr\xE8me", "ISO-8859-1");
  EXPECT_EQ(r.text, "caf\xC3\xA9 cr\xC3\xA8me");
}

TEST(Charset, Windows1252SmartQuotesAndEuroAreConverted) {
  auto r = to_utf8(
      "\x93quoted\x94 \x80"
      "5",
      "windows-1252");
  EXPECT_EQ(r.text,
            "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC"
            "5");
}

TEST(Charset, Utf16LittleEndianWithBom) {
  auto r = to_utf8("\xFF\xFE" + utf16le(u"Gr\u00fc\u00dfe 4111"), "utf-16");
  EXPECT_EQ(r.text,
            "Gr\xC3\xBC\xC3\x9F"
            "e 4111");
}

TEST(Charset, Utf16LittleEndianWithoutBomIsGuessedFromNulBytes) {
  auto r = to_utf8(utf16le(u"Card 4111 1111 1111 1111"), "");
  EXPECT_EQ(r.text, "Card 4111 1111 1111 1111");
  EXPECT_EQ(r.charset_used, "utf-16le");
}

TEST(Charset, Utf16BigEndianWithoutBomIsGuessedFromNulBytes) {
  auto r = to_utf8(utf16be(u"secret plans"), "utf-16");
  EXPECT_EQ(r.text, "secret plans");
  EXPECT_EQ(r.charset_used, "utf-16be");
}

TEST(Charset, Utf16SurrogatePairsAndOddByte) {
  auto r = to_utf8("\xFF\xFE" + utf16le(u"a\U0001F600") + "x", "");
  EXPECT_EQ(r.text, "a\xF0\x9F\x98\x80\xEF\xBF\xBD");
  EXPECT_EQ(r.replaced, 1u);
}

TEST(Charset, ShiftJisIsConverted) {
  auto r = to_utf8("\x93\xFA\x96\x7B\x8C\xEA\x83\x65\x83\x4C\x83\x58\x83\x67", "Shift_JIS");
  EXPECT_EQ(r.text, "日本語テキスト");
  EXPECT_EQ(r.replaced, 0u);
}

TEST(Charset, Gb2312IsConvertedAsGb18030Superset) {
  auto r = to_utf8("\xBB\xFA\xC3\xDC\xCE\xC4\xBC\xFE", "gb2312");
  EXPECT_EQ(r.text, "机密文件");
}

TEST(Charset, OtherLegacyCharsets) {
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r").text, "Привет");
  EXPECT_EQ(to_utf8("\xC6\xFC\xCB\xDC\xB8\xEC", "euc-jp").text, "日本語");
  EXPECT_EQ(to_utf8("\xBE\xF7\xB1\x4B", "big5").text, "機密");
}

TEST(Charset, LyingLatinLabelOnValidUtf8IsReadAsUtf8) {
  auto r = to_utf8("caf\xC3\xA9", "iso-8859-1");
  EXPECT_EQ(r.text, "caf\xC3\xA9");
}

TEST(Charset, UnknownCharsetFallsBackToWindows1252) {
  auto r = to_utf8("na\xEFve", "x-no-such-charset");
  EXPECT_EQ(r.text, "na\xC3\xAFve");
}

TEST(Charset, UndeclaredEightBitFallsBackToWindows1252) {
  EXPECT_EQ(to_utf8("r\xE9sum\xE9", "").text, "r\xC3\xA9sum\xC3\xA9");
}

TEST(Charset, InvalidUtf8IsReplacedNotDroppedSoDigitGroupsStayApart) {
  auto r = to_utf8(
      "4111 1111\xFF"
      "1111 1111",
      "utf-8");
  EXPECT_EQ(r.text,
            "4111 1111\xEF\xBF\xBD"
            "1111 1111");
  EXPECT_EQ(r.replaced, 1u);
}

TEST(Charset, InvalidShiftJisSequenceIsReplaced) {
  auto r = to_utf8("\x93\xFA\x85\x96\x7B", "shift_jis");
  EXPECT_GE(r.replaced, 1u);
  EXPECT_TRUE(is_valid_utf8(r.text));
}

TEST(Charset, OutputCapKeepsValidUtf8) {
  auto r = to_utf8("\xC3\xA9\xC3\xA9\xC3\xA9", "utf-8", 3);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.text, "\xC3\xA9");
}

TEST(Charset, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain ascii text that is long enough"));
  EXPECT_TRUE(is_valid_utf8("\xE6\x97\xA5\xE6\x9C\xAC"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(is_valid_utf8("abc\xE6\x97"));   // truncated
}

}  // namespace
}  // namespace cordon::mime::detail
