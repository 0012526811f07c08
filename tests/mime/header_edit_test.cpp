// Tests of the raw header edits: the top-level header block as mime::parse
// splits it, body offset, and the modify rewrite (added headers, subject
// prefix) that must keep everything else byte for byte.
#include "mime/header_edit.hpp"

#include <gtest/gtest.h>

#include "mime/mime.hpp"

namespace cordon::mime {
namespace {

const std::string kMessage =
    "From: a@corp.test\r\nTo: b@ext.test\r\nSubject: quarterly numbers\r\n"
    "\r\nHello\r\n";

TEST(HeaderEdit, BodyOffsetIsJustAfterTheEmptyLine) {
  EXPECT_EQ(kMessage.substr(body_offset(kMessage)), "Hello\r\n");
  EXPECT_EQ(body_offset("Subject: x\r\n"), std::string("Subject: x\r\n").size());
}

TEST(HeaderEdit, RewritePrependsHeadersAndPrefixesSubject) {
  auto out = edit_headers(kMessage, {{"X-A: 1", "X-B: 2"}, "[DLP] "});
  EXPECT_EQ(out,
            "X-A: 1\r\nX-B: 2\r\nFrom: a@corp.test\r\nTo: b@ext.test\r\n"
            "Subject: [DLP] quarterly numbers\r\n\r\nHello\r\n");
}

TEST(HeaderEdit, RewriteDoesNotRepeatAPrefixAlreadyThere) {
  auto once = edit_headers(kMessage, {{}, "[DLP] "});
  EXPECT_EQ(edit_headers(once, {{}, "[DLP] "}), once);
}

TEST(HeaderEdit, RewriteAddsSubjectWhenMissing) {
  auto out = edit_headers("From: a@corp.test\r\n\r\nbody\r\n", {{}, "[DLP] "});
  EXPECT_EQ(out, "Subject: [DLP]\r\nFrom: a@corp.test\r\n\r\nbody\r\n");
}

TEST(HeaderEdit, RewriteNeverLetsConfigurationTextSplitAHeader) {
  auto out = edit_headers(kMessage, {{"X-A: 1\r\nBcc: evil@x.test"}, "a\r\nb"});
  EXPECT_EQ(out.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(out.find("X-A: 1  Bcc: evil@x.test\r\n"), std::string::npos);
  EXPECT_NE(out.find("Subject: a  bquarterly numbers\r\n"), std::string::npos);
}

TEST(HeaderEdit, RewriteKeepsBareLfLineEndsOfLfMessages) {
  auto out = edit_headers("Subject: s\n\nbody\n", {{"X-A: 1"}, "[P] "});
  EXPECT_EQ(out, "X-A: 1\nSubject: [P] s\n\nbody\n");
}

TEST(HeaderEdit, FoldedSubjectKeepsItsContinuation) {
  auto out = edit_headers("Subject: long\r\n subject\r\n\r\nb\r\n", {{}, "[P] "});
  EXPECT_EQ(out, "Subject: [P] long\r\n subject\r\n\r\nb\r\n");
}

TEST(HeaderEdit, FieldsAreByteRangesOfTheHeaderBlock) {
  auto block = split_raw_headers(kMessage);
  ASSERT_EQ(block.fields.size(), 3u);
  EXPECT_EQ(block.fields[0].name, "From");
  EXPECT_EQ(block.fields[0].value, " a@corp.test");
  EXPECT_EQ(kMessage.substr(block.fields[1].begin, block.fields[1].end - block.fields[1].begin),
            "To: b@ext.test\r\n");
  EXPECT_EQ(block.fields[2].end, block.body - 2);
  EXPECT_EQ(block.body, body_offset(kMessage));
}

TEST(HeaderEdit, FoldedFieldSpansItsContinuationLines) {
  const std::string m = "Subject: a\r\n\tb\r\nTo: c@d.test\r\n\r\nbody";
  auto subject = find_header(m, "subject");
  ASSERT_TRUE(subject);
  EXPECT_EQ(subject->value, " a\r\n\tb");
  EXPECT_EQ(m.substr(subject->begin, subject->end - subject->begin), "Subject: a\r\n\tb\r\n");
  EXPECT_FALSE(find_header(m, "Cc"));
}

// The header block is the one mime::parse inspects, also where the input is
// malformed: a line without a colon does not end it, and a leading mbox
// "From " line is not a field.
TEST(HeaderEdit, HeaderBlockIsTheOneTheParserSees) {
  const std::string m =
      "From alice@corp.test Mon Jan  1 00:00:00 2024\r\n"
      "From: a@corp.test\r\nno colon here\r\nSubject: late\r\n\r\nbody\r\n";
  auto block = split_raw_headers(m);
  ASSERT_EQ(block.fields.size(), 3u);
  EXPECT_EQ(block.fields[0].name, "From");
  EXPECT_TRUE(block.fields[1].name.empty());
  EXPECT_EQ(m.substr(block.body), "body\r\n");
  auto parsed = parse(m);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->subject, "late");
  EXPECT_NE(edit_headers(m, {{}, "[P] "}).find("Subject: [P] late\r\n"), std::string::npos);
}

TEST(HeaderEdit, NoHeaderByteLimitApplies) {
  Limits limits;
  const std::string big = "X-Big: " + std::string(limits.max_header_bytes + 10, 'x') + "\r\n";
  const std::string m = big + "Subject: s\r\n\r\nbody";
  auto subject = find_header(m, "Subject");
  ASSERT_TRUE(subject);
  EXPECT_EQ(subject->begin, big.size());
  EXPECT_EQ(m.substr(body_offset(m)), "body");
}

TEST(HeaderEdit, EmptyMessageHasNoFields) {
  EXPECT_TRUE(split_raw_headers("").fields.empty());
  EXPECT_EQ(body_offset(""), 0u);
  EXPECT_EQ(edit_headers("", {{"X-A: 1"}, {}}), "X-A: 1\r\n");
}
}  // namespace
}  // namespace cordon::mime
