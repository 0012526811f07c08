// Transfer decoders on well-formed and hostile input.
#include "mime/transfer_decode.hpp"

#include <gtest/gtest.h>

namespace cordon::mime::detail {
namespace {

std::string decode(std::string_view in, TransferEncoding enc, DecodeReport& report,
                   std::size_t cap = 1 << 20) {
  std::string out;
  decode_transfer(in, enc, cap, out, report);
  return out;
}

TEST(TransferDecode, Base64WithLineBreaksDecodes) {
  DecodeReport r;
  EXPECT_EQ(decode("SGVsbG8s\r\nIHdvcmxk\r\nIQ==\r\n", TransferEncoding::base64, r),
            "Hello, world!");
  EXPECT_EQ(r.invalid_chars, 0u);
  EXPECT_FALSE(r.incomplete);
}

TEST(TransferDecode, Base64WithoutPaddingDecodesEveryByte) {
  DecodeReport r;
  EXPECT_EQ(decode("SGVsbG8", TransferEncoding::base64, r), "Hello");
  EXPECT_EQ(decode("SGk", TransferEncoding::base64, r), "Hi");
  EXPECT_FALSE(r.incomplete);
}

TEST(TransferDecode, Base64SkipsAndCountsBadCharacters) {
  DecodeReport r;
  EXPECT_EQ(decode("SGVs*bG8g!d29y#bGQ=", TransferEncoding::base64, r), "Hello world");
  EXPECT_EQ(r.invalid_chars, 3u);
}

TEST(TransferDecode, Base64TruncatedQuantumIsReported) {
  DecodeReport r;
  decode("SGVsbG8gd", TransferEncoding::base64, r);
  EXPECT_TRUE(r.incomplete);
}

TEST(TransferDecode, Base64ConcatenatedBlocksAfterPaddingDecode) {
  DecodeReport r;
  EXPECT_EQ(decode("SGk=\nSGk=", TransferEncoding::base64, r), "HiHi");
}

TEST(TransferDecode, OutputCapTruncatesAndSaysSo) {
  DecodeReport r;
  EXPECT_EQ(decode("SGVsbG8gd29ybGQ=", TransferEncoding::base64, r, 5), "Hello");
  EXPECT_TRUE(r.truncated);
  DecodeReport r2;
  EXPECT_EQ(decode("abcdef", TransferEncoding::identity, r2, 3), "abc");
  EXPECT_TRUE(r2.truncated);
}

TEST(TransferDecode, QuotedPrintableSoftBreaksAndEscapes) {
  DecodeReport r;
  EXPECT_EQ(decode("Caf=C3=A9 au l=\r\nait  \r\nnext=3D1", TransferEncoding::quoted_printable, r),
            "Caf\xC3\xA9 au lait\r\nnext=1");
  EXPECT_EQ(r.invalid_chars, 0u);
}

TEST(TransferDecode, QuotedPrintableBadEscapeKeptLiterally) {
  DecodeReport r;
  EXPECT_EQ(decode("4111=ZZ1111", TransferEncoding::quoted_printable, r), "4111=ZZ1111");
  EXPECT_EQ(r.invalid_chars, 1u);
}

TEST(TransferDecode, UuencodeDecodesBetweenBeginAndEnd) {
  DecodeReport r;
  // "Hello, world!" uuencoded.
  EXPECT_EQ(decode("begin 644 hello.txt\n-2&5L;&\\L('=O<FQD(0``\n`\nend\n",
                   TransferEncoding::uuencode, r),
            "Hello, world!");
  EXPECT_FALSE(r.incomplete);
}

TEST(TransferDecode, EncodingNamesAreRecognised) {
  bool known = false;
  EXPECT_EQ(transfer_encoding_from_name(" Base64 ", known), TransferEncoding::base64);
  EXPECT_TRUE(known);
  EXPECT_EQ(transfer_encoding_from_name("QUOTED-PRINTABLE", known),
            TransferEncoding::quoted_printable);
  EXPECT_EQ(transfer_encoding_from_name("x-uuencode", known), TransferEncoding::uuencode);
  EXPECT_EQ(transfer_encoding_from_name("8bit", known), TransferEncoding::identity);
  EXPECT_TRUE(known);
  EXPECT_EQ(transfer_encoding_from_name("x-rot13", known), TransferEncoding::identity);
  EXPECT_FALSE(known);
}

TEST(TransferDecode, GuessesOnlyWhatIsPlainlyBase64OrQuotedPrintable) {
  EXPECT_EQ(guess_transfer_encoding("SGVsbG8sIHdvcmxkIQ==\r\nSGVsbG8h\r\n"),
            TransferEncoding::base64);
  EXPECT_EQ(guess_transfer_encoding("caf=C3=A9 soft=\nbreak\n"),
            TransferEncoding::quoted_printable);
  EXPECT_EQ(guess_transfer_encoding("Hello, world!\n"), TransferEncoding::identity);
  EXPECT_EQ(guess_transfer_encoding("a=b and c=d\n"), TransferEncoding::identity);
  EXPECT_EQ(guess_transfer_encoding("short\n"), TransferEncoding::identity);
  EXPECT_EQ(guess_transfer_encoding("SGVsbG8sIHdvcmxkIQ=x\n"), TransferEncoding::identity)
      << "text after the padding, and '=' not an escape";
  EXPECT_EQ(guess_transfer_encoding(""), TransferEncoding::identity);
}

TEST(TransferDecode, FindsUuencodedBlocksInText) {
  bool more = true;
  auto blocks = find_uuencoded_blocks(
      "hi\nbegin 644 a.txt\n#86)C\n`\nend\nmiddle\nbegin 0600 b c.bin\n#86)C\n", 16, more);
  EXPECT_FALSE(more);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].name, "a.txt");
  EXPECT_EQ(blocks[0].encoded, "begin 644 a.txt\n#86)C\n`\nend\n");
  EXPECT_EQ(blocks[1].name, "b c.bin");
  std::string out;
  DecodeReport r;
  decode_transfer(blocks[0].encoded, TransferEncoding::uuencode, 100, out, r);
  EXPECT_EQ(out, "abc");
  EXPECT_TRUE(find_uuencoded_blocks("begin here\nbegin 9x9 no\n", 16, more).empty());
  EXPECT_EQ(find_uuencoded_blocks("begin 644 a\nend\nbegin 644 b\nend\n", 1, more).size(), 1u);
  EXPECT_TRUE(more);
}

TEST(TransferDecode, FindsUuencodedBlocksAnywhereInLongTextButOnlyAtLineStarts) {
  bool more = false;
  const std::string prose(1000, 'b');  // every byte could start "begin"
  for (std::size_t pad = 0; pad < 40; ++pad) {
    const std::string text = prose + " not begin 644 x.txt\r\n" + std::string(pad, 'a') +
                             "\r\nbegin 644 y.txt\r\n#86)C\r\n`\r\nend\r\n";
    auto blocks = find_uuencoded_blocks(text, 16, more);
    ASSERT_EQ(blocks.size(), 1u) << pad;
    EXPECT_EQ(blocks[0].name, "y.txt") << pad;
  }
  // The last line of the text, shorter than the stride.
  auto tail = find_uuencoded_blocks(prose + "\nbegin 644 z", 16, more);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].name, "z");
}

// Every alignment of the begin line against the 64-byte stride, behind
// lines that start with 'b' (a line break and a 'b' are what the stride
// looks for first, so these are near misses in the same block).
TEST(TransferDecode, FindsUuencodedBlocksAtEveryAlignmentBehindNearMisses) {
  bool more = false;
  for (std::size_t pad = 0; pad < 140; ++pad) {
    const std::string text = "Hello\nbut first\nbeginning\nbegin 64 no\n" + std::string(pad, 'a') +
                             "\nbegin 644 y.txt\n#86)C\n`\nend\n" + std::string(pad % 70, 'c');
    auto blocks = find_uuencoded_blocks(text, 16, more);
    ASSERT_EQ(blocks.size(), 1u) << pad;
    EXPECT_EQ(blocks[0].name, "y.txt") << pad;
    EXPECT_TRUE(find_uuencoded_blocks(text.substr(0, 40 + pad), 16, more).empty()) << pad;
  }
}

}  // namespace
}  // namespace cordon::mime::detail
