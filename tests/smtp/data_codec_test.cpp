// Unit tests of DATA dot-stuffing/unstuffing and of the line-ending rule
// that defeats SMTP smuggling (see data_codec.hpp).
#include <gtest/gtest.h>

#include <utility>

#include "smtp/data_codec.hpp"

namespace cordon::smtp {
namespace {

struct Decoded {
  std::string content;
  std::size_t consumed = 0;
  bool done = false, bare = false, long_line = false, too_big = false;
};

Decoded decode(std::string_view input, std::size_t chunk = 0, std::uint64_t max_size = 1 << 20,
               std::size_t max_line = 1000) {
  DataDecoder d(max_size, max_line);
  Decoded out;
  if (chunk == 0) chunk = input.size() ? input.size() : 1;
  for (std::size_t pos = 0; pos < input.size() && !d.done(); pos += chunk) {
    std::string_view piece = input.substr(pos, chunk);
    out.consumed += d.feed(piece, out.content);
  }
  out.done = d.done();
  out.bare = d.bare_newline();
  out.long_line = d.line_too_long();
  out.too_big = d.too_big();
  return out;
}

TEST(DataDecoder, EndsOnlyAtCrLfDotCrLfAndUnstuffs) {
  auto d = decode("Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, "Subject: x\r\n\r\n.leading dot\r\nbody\r\n");
  EXPECT_EQ(d.consumed, std::string("Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\n").size());
  EXPECT_FALSE(d.bare);
}

TEST(DataDecoder, ResultDoesNotDependOnChunkBoundaries) {
  std::string input = "a\r\n..b\r\n.c\r\n\r\n.\r\n";
  auto whole = decode(input);
  for (std::size_t chunk = 1; chunk < input.size(); ++chunk) {
    auto split = decode(input, chunk);
    EXPECT_EQ(split.content, whole.content) << chunk;
    EXPECT_TRUE(split.done);
  }
  EXPECT_EQ(whole.content, "a\r\n.b\r\nc\r\n\r\n");
}

TEST(DataDecoder, EmptyMessageEndsImmediately) {
  auto d = decode(".\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, "");
}

TEST(DataDecoder, SmugglingSequencesDoNotEndDataAndFlagTheMessage) {
  for (std::string_view smuggle : {"\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r\n.\r"}) {
    std::string input = "x" + std::string(smuggle) + "MAIL FROM:<evil@x>\r\n";
    auto open = decode(input);
    EXPECT_FALSE(open.done) << "sequence ended data";
    EXPECT_TRUE(open.bare);
    auto closed = decode(input + ".\r\n");
    EXPECT_TRUE(closed.done);
    EXPECT_TRUE(closed.bare);
    EXPECT_NE(closed.content.find("MAIL FROM:<evil@x>"), std::string::npos);
  }
}

TEST(DataDecoder, CleanCrLfMessageIsNotFlagged) {
  auto d = decode("a\r\nb\r\n.\r\n");
  EXPECT_FALSE(d.bare);
}

TEST(DataDecoder, EnforcesSizeAndLineLimitsButReadsToTheEnd) {
  auto big = decode("0123456789\r\n0123456789\r\n.\r\nNEXT", 0, 15);
  EXPECT_TRUE(big.done);
  EXPECT_TRUE(big.too_big);
  EXPECT_LE(big.content.size(), 15u);
  auto long_line = decode(std::string(50, 'x') + "\r\n.\r\n", 0, 1 << 20, 20);
  EXPECT_TRUE(long_line.done);
  EXPECT_TRUE(long_line.long_line);
}

// Whole lines are copied at once when the input holds them; fed one octet at
// a time the decoder never can. Both must agree on every short mix of dots
// and line ends, limits included.
TEST(DataDecoder, WholeInputAndOneOctetAtATimeAgreeOnEveryMixOfDotsAndLineEnds) {
  const char alphabet[] = {'a', '.', '\r', '\n'};
  for (int length = 0; length <= 7; ++length) {
    int count = 1;
    for (int i = 0; i < length; ++i) count *= 4;
    for (int n = 0; n < count; ++n) {
      std::string input;
      for (int i = 0, v = n; i < length; ++i, v /= 4) input.push_back(alphabet[v % 4]);
      input += "\r\n.\r\n";
      for (auto [max_size, max_line] :
           {std::pair<std::uint64_t, std::size_t>{1 << 20, 1000}, {6, 3}}) {
        auto whole = decode(input, 0, max_size, max_line);
        auto octets = decode(input, 1, max_size, max_line);
        ASSERT_EQ(whole.content, octets.content) << input;
        ASSERT_EQ(whole.consumed, octets.consumed) << input;
        ASSERT_EQ(whole.done, octets.done) << input;
        ASSERT_EQ(whole.bare, octets.bare) << input;
        ASSERT_EQ(whole.long_line, octets.long_line) << input;
        ASSERT_EQ(whole.too_big, octets.too_big) << input;
      }
    }
  }
}

TEST(EncodeData, NormalisesLineEndsAndStuffsDots) {
  EXPECT_EQ(encode_data("a\nb\rc\r\n.d\n"), "a\r\nb\r\nc\r\n..d\r\n.\r\n");
  EXPECT_EQ(encode_data("no newline"), "no newline\r\n.\r\n");
  EXPECT_EQ(encode_data(""), ".\r\n");
  EXPECT_EQ(encode_data(".\r\n"), "..\r\n.\r\n");
}

TEST(EncodeData, DecodesBackToTheNormalisedMessage) {
  std::string message = ".x\r\n..\r\nplain\r\n.\r\n";
  auto d = decode(encode_data(message));
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, message);
  EXPECT_FALSE(d.bare);
}

// The rule spelled out one octet at a time, to hold the run-copying
// encoder to.
std::string encode_reference(std::string_view message) {
  std::string out;
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  return out + ".\r\n";
}

TEST(EncodeData, AgreesWithTheOctetAtATimeRuleOnEveryMixOfDotsAndLineEnds) {
  std::uint32_t seed = 12345;
  const char alphabet[] = {'a', '.', '\r', '\n', 'b'};
  for (int round = 0; round < 5000; ++round) {
    std::string message;
    const int length = round % 40;
    for (int i = 0; i < length; ++i) {
      seed = seed * 1664525u + 1013904223u;
      message.push_back(alphabet[(seed >> 16) % sizeof(alphabet)]);
    }
    ASSERT_EQ(encode_data(message), encode_reference(message)) << "message: " << message;
  }
}

}  // namespace
}  // namespace cordon::smtp
