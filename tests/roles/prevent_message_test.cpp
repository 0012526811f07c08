// Tests of the prevent role's raw-message helpers: loop header detection,
// the content hash that must survive re-sends, and the modify rewrite.
#include "roles/prevent/prevent_message.hpp"

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

const Deployment kOwn{"abc123", "k3y"};

TEST(PreventMessage, OwnStampIsRecognisedAlsoAfterTraceHeadersWereAdded) {
  const std::string stamped = stamp(kMessage, kOwn, "pass", std::nullopt);
  EXPECT_EQ(stamped.rfind("X-Cordon-Inspected: abc123; pass; mac=", 0), 0u);
  EXPECT_TRUE(inspected_by(stamped, kOwn));
  EXPECT_TRUE(inspected_by("Received: from gw by mx; Mon, 1 Jan 2024\r\n" + stamped, kOwn));
}

TEST(PreventMessage, ForeignDeploymentsStampsDoNotCount) {
  EXPECT_FALSE(inspected_by(stamp(kMessage, {"other", "k3y"}, "pass", std::nullopt), kOwn));
  EXPECT_FALSE(inspected_by(stamp(kMessage, {"abc12", "k3y"}, "pass", std::nullopt), kOwn));
  EXPECT_FALSE(inspected_by(kMessage, kOwn));
}

TEST(PreventMessage, ForgedOrCopiedStampsDoNotCount) {
  // Our id without the key (forged), or a valid stamp moved onto other
  // content (copied), must not skip inspection.
  EXPECT_FALSE(inspected_by("X-Cordon-Inspected: abc123; pass\r\n" + kMessage, kOwn));
  EXPECT_FALSE(inspected_by(stamp(kMessage, {"abc123", "guess"}, "pass", std::nullopt), kOwn));
  std::string stamped = stamp(kMessage, kOwn, "pass", std::nullopt);
  std::string header = stamped.substr(0, stamped.find("\r\n") + 2);
  std::string other = "From: a@corp.test\r\nSubject: card\r\n\r\n4111 1111 1111 1111\r\n";
  EXPECT_FALSE(inspected_by(header + other, kOwn));
  std::string changed = stamped;
  changed.replace(changed.find("Hello"), 5, "Hullo");
  EXPECT_FALSE(inspected_by(changed, kOwn));
}

TEST(PreventMessage, StampInTheBodyDoesNotCount) {
  const std::string stamped = stamp(kMessage, kOwn, "pass", std::nullopt);
  const std::string header = stamped.substr(0, stamped.find("\r\n") + 2);
  EXPECT_FALSE(inspected_by(kMessage + header, kOwn));
}

TEST(PreventMessage, StampNamesIncidentOnlyWhenThereIsOne) {
  EXPECT_EQ(stamp(kMessage, kOwn, "modify", 42)
                .rfind("X-Cordon-Inspected: abc123; modify; incident=42; mac=", 0),
            0u);
  EXPECT_EQ(stamp(kMessage, kOwn, "pass", std::nullopt).find("incident="), std::string::npos);
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
