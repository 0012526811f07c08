// Tests of the prevent role's raw-message helpers: loop header detection,
// the content hash that must survive re-sends, and the modify rewrite.
#include "roles/prevent_message.hpp"

#include <gtest/gtest.h>

namespace cordon::roles::prevent {
namespace {

const std::string kMessage =
    "From: a@corp.test\r\nTo: b@ext.test\r\nSubject: quarterly numbers\r\n"
    "\r\nHello\r\n";

TEST(PreventMessage, BodyOffsetIsJustAfterTheEmptyLine) {
  EXPECT_EQ(kMessage.substr(body_offset(kMessage)), "Hello\r\n");
  EXPECT_EQ(body_offset("Subject: x\r\n"), std::string("Subject: x\r\n").size());
}

TEST(PreventMessage, OwnInspectedHeaderIsRecognisedAndForeignOnesAreNot) {
  const std::string own = "X-Cordon-Inspected: abc123; pass\r\n" + kMessage;
  EXPECT_TRUE(inspected_by(own, "abc123"));
  EXPECT_FALSE(inspected_by(own, "abc12"));
  EXPECT_FALSE(inspected_by(own, "other"));
  EXPECT_FALSE(inspected_by(kMessage, "abc123"));
  EXPECT_TRUE(inspected_by("x-cordon-inspected:abc123; block; incident=4\r\n\r\n", "abc123"));
}

TEST(PreventMessage, InspectedHeaderInTheBodyDoesNotCount) {
  const std::string body_only = kMessage + "X-Cordon-Inspected: abc123; pass\r\n";
  EXPECT_FALSE(inspected_by(body_only, "abc123"));
}

TEST(PreventMessage, HashIgnoresTraceHeadersAddedOnResend) {
  const std::string resent =
      "Received: from mx1.test by mx2.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
      "Return-Path: <a@corp.test>\r\n"
      "X-Cordon-Inspected: other; pass\r\n" +
      kMessage;
  EXPECT_EQ(content_hash(kMessage), content_hash(resent));
  EXPECT_EQ(content_hash(kMessage).size(), 64u);
}

TEST(PreventMessage, HashChangesWithBodyOrNonTraceHeaders) {
  std::string other_body = kMessage;
  other_body.replace(other_body.find("Hello"), 5, "Hullo");
  EXPECT_NE(content_hash(kMessage), content_hash(other_body));
  EXPECT_NE(content_hash(kMessage), content_hash("Cc: c@ext.test\r\n" + kMessage));
}

TEST(PreventMessage, InspectedHeaderNamesIncidentOnlyWhenThereIsOne) {
  EXPECT_EQ(inspected_header("d1", "pass", std::nullopt), "X-Cordon-Inspected: d1; pass");
  EXPECT_EQ(inspected_header("d1", "modify", 42), "X-Cordon-Inspected: d1; modify; incident=42");
}

TEST(PreventMessage, RewritePrependsHeadersAndPrefixesSubject) {
  auto out = rewrite(kMessage, {{"X-A: 1", "X-B: 2"}, "[DLP] "});
  EXPECT_EQ(out,
            "X-A: 1\r\nX-B: 2\r\nFrom: a@corp.test\r\nTo: b@ext.test\r\n"
            "Subject: [DLP] quarterly numbers\r\n\r\nHello\r\n");
}

TEST(PreventMessage, RewriteDoesNotRepeatAPrefixAlreadyThere) {
  auto once = rewrite(kMessage, {{}, "[DLP] "});
  EXPECT_EQ(rewrite(once, {{}, "[DLP] "}), once);
}

TEST(PreventMessage, RewriteAddsSubjectWhenMissing) {
  auto out = rewrite("From: a@corp.test\r\n\r\nbody\r\n", {{}, "[DLP] "});
  EXPECT_EQ(out, "Subject: [DLP]\r\nFrom: a@corp.test\r\n\r\nbody\r\n");
}

TEST(PreventMessage, RewriteNeverLetsConfigurationTextSplitAHeader) {
  auto out = rewrite(kMessage, {{"X-A: 1\r\nBcc: evil@x.test"}, "a\r\nb"});
  EXPECT_EQ(out.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(out.find("X-A: 1  Bcc: evil@x.test\r\n"), std::string::npos);
  EXPECT_NE(out.find("Subject: a  bquarterly numbers\r\n"), std::string::npos);
}

TEST(PreventMessage, RewriteKeepsBareLfLineEndsOfLfMessages) {
  auto out = rewrite("Subject: s\n\nbody\n", {{"X-A: 1"}, "[P] "});
  EXPECT_EQ(out, "X-A: 1\nSubject: [P] s\n\nbody\n");
}

TEST(PreventMessage, FoldedSubjectKeepsItsContinuation) {
  auto out = rewrite("Subject: long\r\n subject\r\n\r\nb\r\n", {{}, "[P] "});
  EXPECT_EQ(out, "Subject: [P] long\r\n subject\r\n\r\nb\r\n");
}

}  // namespace
}  // namespace cordon::roles::prevent
