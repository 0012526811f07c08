// The parser types each problem: content it did not read (depth, parts,
// boundary, header and decoded size limits, encryption) is unscannable;
// repairs and replaced characters are notes. A flood of notes cannot push
// an unscannable problem out of the bounded list unseen.
#include <gtest/gtest.h>

#include <algorithm>

#include "mime/mime.hpp"

namespace cordon::mime {
namespace {

Message parsed(const std::string& raw, const Limits& limits = {}) {
  auto r = parse(raw, limits);
  EXPECT_TRUE(r.has_value());
  return r ? std::move(r).value() : Message{};
}

std::vector<ProblemKind> kinds(const Message& m) {
  std::vector<ProblemKind> out;
  for (const auto& p : m.problems) out.push_back(p.kind);
  return out;
}

bool has(const Message& m, ProblemKind kind) {
  auto k = kinds(m);
  return std::find(k.begin(), k.end(), kind) != k.end();
}

TEST(ProblemKinds, LimitsAndEncryptionAreUnscannable) {
  Limits shallow;
  shallow.max_depth = 1;
  auto deep = parsed(
      "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; "
      "boundary=b\n\n--b\n\ninner\n--b--\n--a--\n",
      shallow);
  ASSERT_TRUE(has(deep, ProblemKind::mime_depth)) << ::testing::PrintToString(kinds(deep));

  Limits few;
  few.max_parts = 1;
  auto parts =
      parsed("Content-Type: multipart/mixed; boundary=a\n\n--a\n\none\n--a\n\ntwo\n--a--\n", few);
  EXPECT_TRUE(has(parts, ProblemKind::mime_parts));

  auto boundary = parsed("Content-Type: multipart/mixed\n\nno boundary\n");
  EXPECT_TRUE(has(boundary, ProblemKind::mime_boundary));

  Limits small_headers;
  small_headers.max_header_bytes = 64;
  auto headers = parsed("Subject: " + std::string(200, 'x') + "\n\nbody\n", small_headers);
  EXPECT_TRUE(has(headers, ProblemKind::header_limit));

  Limits small;
  small.max_decoded_bytes = 16;
  auto big = parsed("Content-Type: text/plain\n\n" + std::string(100, 'a') + "\n", small);
  EXPECT_TRUE(has(big, ProblemKind::decoded_size_limit));

  auto enc = parsed(
      "Content-Type: multipart/encrypted; boundary=a\n\n--a\n\nVersion: 1\n--a\n\ncipher\n--a--\n");
  ASSERT_TRUE(has(enc, ProblemKind::encrypted));
  for (const auto& p : enc.problems) {
    if (p.kind == ProblemKind::encrypted) {
      EXPECT_EQ(p.where, "the message body");
    }
  }
  for (const auto& m : {deep, parts, boundary, headers, big, enc}) {
    for (const auto& p : m.problems) {
      if (p.kind != ProblemKind::malformed) {
        EXPECT_TRUE(is_unscannable(p.kind)) << p.detail;
      }
    }
  }
}

TEST(ProblemKinds, RepairsAndReplacedCharactersAreNotes) {
  auto charset = parsed("Content-Type: text/plain; charset=utf-8\n\ncaf\xff ok\n");
  ASSERT_EQ(kinds(charset), std::vector<ProblemKind>{ProblemKind::charset});
  auto b64 = parsed("Content-Transfer-Encoding: base64\n\naGVsbG8!!!\n");
  ASSERT_TRUE(has(b64, ProblemKind::transfer_encoding));
  auto colon = parsed("Subject: x\nno colon here\n\nbody\n");
  ASSERT_TRUE(has(colon, ProblemKind::malformed));
  for (const auto& m : {charset, b64, colon})
    for (const auto& p : m.problems) EXPECT_FALSE(is_unscannable(p.kind)) << p.detail;
}

TEST(ProblemKinds, DroppedUnscannableProblemsAreStillCounted) {
  // 100 notes fill the list; the encrypted part comes after them.
  std::string s = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 100; ++i) s += "--b\nContent-Transfer-Encoding: base64\n\n!!!!\n";
  s += "--b\nContent-Type: multipart/encrypted; boundary=e\n\n--e\n\nx\n--e\n\ny\n--e--\n--b--\n";
  auto m = parsed(s);
  ASSERT_FALSE(m.problems.empty());
  const Problem& last = m.problems.back();
  EXPECT_NE(last.detail.find("more problem(s) not listed"), std::string::npos) << last.detail;
  EXPECT_EQ(last.kind, ProblemKind::encrypted);
  EXPECT_TRUE(is_unscannable(last.kind));
}

TEST(ProblemKinds, EveryKindHasANameAndWords) {
  for (auto kind : {ProblemKind::mime_depth, ProblemKind::mime_parts, ProblemKind::mime_boundary,
                    ProblemKind::header_limit, ProblemKind::decoded_size_limit,
                    ProblemKind::encrypted, ProblemKind::decode_error,
                    ProblemKind::extraction_limit, ProblemKind::extractor_unavailable,
                    ProblemKind::malformed, ProblemKind::transfer_encoding, ProblemKind::charset}) {
    EXPECT_NE(to_string(kind), "unknown");
    EXPECT_FALSE(describe(kind).empty());
  }
}

}  // namespace
}  // namespace cordon::mime
