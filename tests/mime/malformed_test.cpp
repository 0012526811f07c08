// mime::parse on malformed and hostile input: never crashes or hangs, keeps
// what it can inspect, and says what it could not in Message::problems.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "mime/mime.hpp"

namespace cordon::mime {
namespace {

struct Timed {
  Message message;
  double seconds;
};

Timed parse_timed(std::string_view raw, const Limits& limits = {}) {
  auto start = std::chrono::steady_clock::now();
  auto r = parse(raw, limits);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(r.has_value());
  return {r.has_value() ? std::move(r).value() : Message{}, s};
}

bool has_problem(const Message& m, std::string_view fragment) {
  return std::any_of(m.problems.begin(), m.problems.end(), [&](const Problem& p) {
    return p.detail.find(fragment) != std::string::npos;
  });
}

bool any_text_contains(const Message& m, std::string_view needle) {
  return std::any_of(m.components.begin(), m.components.end(),
                     [&](const Component& c) { return c.text.find(needle) != std::string::npos; });
}

std::string nested_multiparts(int depth, std::string_view innermost) {
  std::string s = "Subject: deep\n";
  for (int i = 0; i < depth; ++i) {
    s += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
         std::to_string(i) + "\n";
  }
  s += "Content-Type: text/plain\n\n";
  s += innermost;
  s += "\n";
  for (int i = depth - 1; i >= 0; --i) s += "--b" + std::to_string(i) + "--\n";
  return s;
}

TEST(MimeMalformed, MissingClosingBoundaryKeepsParts) {
  auto t = parse_timed(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\nContent-Type: text/plain\n\n"
      "second 4111111111111111\n");
  EXPECT_TRUE(any_text_contains(t.message, "first"));
  EXPECT_TRUE(any_text_contains(t.message, "second 4111111111111111"));
  EXPECT_TRUE(has_problem(t.message, "missing closing boundary"));
}

TEST(MimeMalformed, InnerMultipartClosedByOuterBoundary) {
  auto t = parse_timed(
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n\n--inner\n\ninner text\n"
      "--outer\nContent-Type: text/plain\n\nafter\n--outer--\n");
  EXPECT_TRUE(any_text_contains(t.message, "inner text"));
  EXPECT_TRUE(any_text_contains(t.message, "after"));
  EXPECT_TRUE(has_problem(t.message, "missing closing boundary of part 1"));
}

TEST(MimeMalformed, BadBase64IsDecodedAsFarAsPossibleAndRecorded) {
  auto t = parse_timed(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\n"
      "Content-Transfer-Encoding: base64\n\nQ2Fy*ZCA0MTEx!IDExMTE\n--b--\n");
  EXPECT_TRUE(any_text_contains(t.message, "Card 4111 1111"));
  EXPECT_TRUE(has_problem(t.message, "base64 decoding errors in part 2"));
}

TEST(MimeMalformed, TruncatedMessageMidBase64) {
  auto t = parse_timed(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf; "
      "name=a.pdf\n"
      "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK");
  const auto& cs = t.message.components;
  auto pdf =
      std::find_if(cs.begin(), cs.end(), [](auto& c) { return c.name == "attachment:a.pdf"; });
  ASSERT_NE(pdf, cs.end());
  EXPECT_EQ(pdf->data, "%PDF-1.4\n");
  EXPECT_TRUE(has_problem(t.message, "missing closing boundary"));
}

TEST(MimeMalformed, ThousandDeepNestingStopsAtDepthLimitButKeepsText) {
  auto t = parse_timed(nested_multiparts(1000, "deep secret 4111111111111111"));
  EXPECT_TRUE(has_problem(t.message, "mime depth limit 30 reached at part 1.1.1.1"));
  // Past the limit the content is read as raw text: still scanned.
  EXPECT_TRUE(any_text_contains(t.message, "deep secret 4111111111111111"));
  EXPECT_LT(t.seconds, 5.0);
}

TEST(MimeMalformed, DeepNestingWithManyDashLinesStaysLinear) {
  // Shape that makes parsers comparing every "--" line with every open
  // boundary quadratic.
  std::string s = nested_multiparts(1100, "x");
  std::string dashes;
  for (int i = 0; i < 1'000'000; ++i) dashes += "--\n";
  s.insert(s.find("Content-Type: text/plain"), dashes);
  auto t = parse_timed(s);
  EXPECT_TRUE(has_problem(t.message, "depth limit"));
  EXPECT_LT(t.seconds, 5.0);
}

TEST(MimeMalformed, HundredMegabyteLine) {
  std::string s = "Subject: long\nContent-Type: text/plain\n\nstart ";
  s.append(100u << 20, 'a');
  s += " 4111111111111111 end\n";
  auto t = parse_timed(s);
  ASSERT_EQ(t.message.components.back().name, "body");
  EXPECT_EQ(t.message.components.back().text.size(),
            (100u << 20) + 28);  // with the final line break
  EXPECT_LT(t.seconds, 15.0);
}

TEST(MimeMalformed, HundredMegabyteHeaderLineIsCutAtTheHeaderLimit) {
  std::string s = "Subject: ";
  s.append(100u << 20, 'h');
  s += "\nContent-Type: text/plain\n\nbody text\n";
  auto t = parse_timed(s);
  EXPECT_TRUE(has_problem(t.message, "header limit"));
  EXPECT_LE(t.message.subject.size(), 1u << 20);
  EXPECT_TRUE(any_text_contains(t.message, "body text"));
  EXPECT_LT(t.seconds, 15.0);
}

TEST(MimeMalformed, HeaderLineWithoutColonIsKeptAndRecorded) {
  auto t = parse_timed(
      "Subject: s\nthis line has no colon 4111111111111111\nFrom: a@b.example\n\nbody\n");
  EXPECT_EQ(t.message.from, "a@b.example");
  EXPECT_TRUE(has_problem(t.message, "without a colon"));
  const auto& header = t.message.components[1];
  ASSERT_EQ(header.name, "header");
  EXPECT_NE(header.text.find("this line has no colon 4111111111111111"), std::string::npos);
  EXPECT_TRUE(any_text_contains(t.message, "body"));
}

TEST(MimeMalformed, NulBytesDoNotCutTextShort) {
  const char raw[] = "Subject: a\0b\nContent-Type: text/plain\n\nbefore\0after 4111\n";
  std::string s(raw, sizeof raw - 1);
  auto t = parse_timed(s);
  EXPECT_EQ(t.message.subject, "a b");
  EXPECT_TRUE(any_text_contains(t.message, std::string_view("before\0after 4111", 17)));
}

TEST(MimeMalformed, MultipartWithoutBoundaryIsReadAsText) {
  auto t = parse_timed("Content-Type: multipart/mixed\n\nsome 4111 text\n");
  EXPECT_TRUE(has_problem(t.message, "without a usable boundary"));
  EXPECT_TRUE(any_text_contains(t.message, "some 4111 text"));
}

TEST(MimeMalformed, BoundaryThatNeverAppearsIsReadAsText) {
  auto t = parse_timed("Content-Type: multipart/mixed; boundary=zz\n\nplain 4111 text\n");
  EXPECT_TRUE(has_problem(t.message, "no part delimited"));
  EXPECT_TRUE(any_text_contains(t.message, "plain 4111 text"));
}

TEST(MimeMalformed, PartLimitKeepsTheRestAsText) {
  std::string s = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 50; ++i) s += "--b\n\npart " + std::to_string(i) + "\n";
  s += "--b--\n";
  Limits limits;
  limits.max_parts = 10;
  auto t = parse_timed(s, limits);
  EXPECT_TRUE(has_problem(t.message, "mime part limit 10 reached at part 11"));
  EXPECT_TRUE(any_text_contains(t.message, "part 9"));
  EXPECT_TRUE(any_text_contains(t.message, "part 49"));
  EXPECT_LE(t.message.components.size(), 12u);
}

TEST(MimeMalformed, DecodedSizeLimitCapsOutput) {
  std::string s = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 4; ++i) {
    s += "--b\nContent-Type: application/octet-stream; name=f" + std::to_string(i) + "\n\n" +
         std::string(1000, 'x') + "\n";
  }
  s += "--b--\n";
  Limits limits;
  limits.max_decoded_bytes = 2500;
  auto t = parse_timed(s, limits);
  std::size_t total = 0;
  for (const auto& c : t.message.components) total += c.data.size() + c.text.size();
  EXPECT_LE(total, 2500u + 200u);  // plus the header component
  EXPECT_TRUE(has_problem(t.message, "decoded size limit of 2500 bytes"));
}

TEST(MimeMalformed, OnlyHeadersOrOnlyGarbage) {
  EXPECT_TRUE(parse_timed("Subject: nothing else").message.subject == "nothing else");
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xFF));
  auto t = parse_timed(garbage);
  for (const auto& c : t.message.components) EXPECT_FALSE(c.name.empty());
}

TEST(MimeMalformed, ProblemListIsBounded) {
  std::string s = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 500; ++i) s += "--b\nContent-Transfer-Encoding: base64\n\n!!!!\n";
  s += "--b--\n";
  auto t = parse_timed(s);
  EXPECT_LE(t.message.problems.size(), 65u);
  EXPECT_TRUE(has_problem(t.message, "more problem(s) not listed"));
}

}  // namespace
}  // namespace cordon::mime
