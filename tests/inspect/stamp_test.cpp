// Tests of the loop-prevention stamp (recognised, forged, copied), the
// content hash that must survive re-sends, and the deployment id and key.
#include "inspect/stamp.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace cordon::inspect {
namespace {

const std::string kMessage =
    "From: a@corp.test\r\nTo: b@ext.test\r\nSubject: quarterly numbers\r\n"
    "\r\nHello\r\n";

const Deployment kOwn{"abc123", "k3y"};

TEST(Stamp, OwnStampIsRecognisedAlsoAfterTraceHeadersWereAdded) {
  const std::string stamped = stamp(kMessage, kOwn, "pass", std::nullopt);
  EXPECT_EQ(stamped.rfind("X-Cordon-Inspected: abc123; pass; mac=", 0), 0u);
  EXPECT_TRUE(inspected_by(stamped, kOwn));
  EXPECT_TRUE(inspected_by("Received: from gw by mx; Mon, 1 Jan 2024\r\n" + stamped, kOwn));
}

TEST(Stamp, ForeignDeploymentsStampsDoNotCount) {
  EXPECT_FALSE(inspected_by(stamp(kMessage, {"other", "k3y"}, "pass", std::nullopt), kOwn));
  EXPECT_FALSE(inspected_by(stamp(kMessage, {"abc12", "k3y"}, "pass", std::nullopt), kOwn));
  EXPECT_FALSE(inspected_by(kMessage, kOwn));
}

TEST(Stamp, ForgedOrCopiedStampsDoNotCount) {
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

TEST(Stamp, StampInTheBodyDoesNotCount) {
  const std::string stamped = stamp(kMessage, kOwn, "pass", std::nullopt);
  const std::string header = stamped.substr(0, stamped.find("\r\n") + 2);
  EXPECT_FALSE(inspected_by(kMessage + header, kOwn));
}

TEST(Stamp, CheckSaysWhyAStampDoesNotCount) {
  const std::string stamped = stamp(kMessage, kOwn, "pass", std::nullopt);
  EXPECT_EQ(check_stamp(stamped, kOwn), StampCheck::valid);
  EXPECT_EQ(check_stamp(kMessage, kOwn), StampCheck::missing);
  EXPECT_EQ(check_stamp(stamp(kMessage, {"other", "k3y"}, "pass", std::nullopt), kOwn),
            StampCheck::other_deployment);
  // Copied onto other content, or our id with a mac made under another key.
  const std::string header = stamped.substr(0, stamped.find("\r\n") + 2);
  EXPECT_EQ(check_stamp(header + "Subject: card\r\n\r\n4111 1111 1111 1111\r\n", kOwn),
            StampCheck::invalid);
  EXPECT_EQ(check_stamp(stamp(kMessage, {"abc123", "guess"}, "pass", std::nullopt), kOwn),
            StampCheck::invalid);
  EXPECT_EQ(check_stamp("X-Cordon-Inspected: abc123; pass; mac=\r\n" + kMessage, kOwn),
            StampCheck::invalid);
  // A valid stamp among others still counts.
  EXPECT_EQ(check_stamp("X-Cordon-Inspected: other; pass; mac=00\r\n" + stamped, kOwn),
            StampCheck::valid);
}

// The mac is HMAC-SHA256 under the key's text of the lower-case hex
// SHA-256 of the content, cut to 128 bits: other implementations (the
// gateway tests' scripted DLP host) compute it from this description.
TEST(Stamp, MacIsTheDocumentedHmac) {
  EXPECT_EQ(content_hash(kMessage),
            "1eb46de72ed27b63e27d5aa7ac10d7b8932bf10d8fafc0cc1b26d7a7b679638b");
  EXPECT_EQ(
      stamp(kMessage, kOwn, "pass", std::nullopt),
      "X-Cordon-Inspected: abc123; pass; mac=b61ad8907bdc5c38aa608093f559207a\r\n" + kMessage);
}

TEST(Stamp, StampNamesIncidentOnlyWhenThereIsOne) {
  EXPECT_EQ(stamp(kMessage, kOwn, "modify", 42)
                .rfind("X-Cordon-Inspected: abc123; modify; incident=42; mac=", 0),
            0u);
  EXPECT_EQ(stamp(kMessage, kOwn, "pass", std::nullopt).find("incident="), std::string::npos);
}

TEST(Stamp, HashIgnoresTraceHeadersAddedOnResend) {
  const std::string resent =
      "Received: from mx1.test by mx2.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
      "Return-Path: <a@corp.test>\r\n"
      "X-Cordon-Inspected: other; pass\r\n" +
      kMessage;
  EXPECT_EQ(content_hash(kMessage), content_hash(resent));
  EXPECT_EQ(content_hash(kMessage).size(), 64u);
}

// A client that re-sends through the gateway gets a new queue id each
// time; cordon's own X-Cordon-* fields must not make that a new incident.
TEST(Stamp, HashIgnoresEveryFieldCordonAdds) {
  const std::string first = "X-Cordon-Queue-Id: 0a1b2c3d4e5f6071\r\n" + kMessage;
  const std::string second =
      "X-Cordon-Queue-Id: 99aabbccddeeff00\r\n"
      "X-Cordon-DLP: bypassed, not inspected (connect)\r\n"
      "x-cordon-inspected: abc123; pass; mac=00\r\n" +
      kMessage;
  EXPECT_EQ(content_hash(first), content_hash(kMessage));
  EXPECT_EQ(content_hash(second), content_hash(kMessage));
  // A field that merely mentions cordon is content.
  EXPECT_NE(content_hash("X-Cordon: no\r\n" + kMessage), content_hash(kMessage));
}

TEST(Stamp, HashChangesWithBodyOrNonTraceHeaders) {
  std::string other_body = kMessage;
  other_body.replace(other_body.find("Hello"), 5, "Hullo");
  EXPECT_NE(content_hash(kMessage), content_hash(other_body));
  EXPECT_NE(content_hash(kMessage), content_hash("Cc: c@ext.test\r\n" + kMessage));
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "cordon-stamp-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Deployment, IsCreatedOnceAndStableAcrossCalls) {
  TempDir one, two;
  auto a = load_or_create_deployment(one.path() + "/data");
  auto again = load_or_create_deployment(one.path() + "/data");
  auto b = load_or_create_deployment(two.path());
  ASSERT_TRUE(a && again && b);
  EXPECT_EQ(a->id, again->id);
  EXPECT_EQ(a->key, again->key);
  EXPECT_NE(a->id, b->id);
  EXPECT_NE(a->key, b->key);
  EXPECT_EQ(a->id.size(), 32u);
  EXPECT_EQ(a->key.size(), 64u);
  auto perms = std::filesystem::status(one.path() + "/data/deployment-key").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

TEST(Deployment, LeavesNoStagingFilesBehind) {
  TempDir dir;
  ASSERT_TRUE(load_or_create_deployment(dir.path()));
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"deployment-id", "deployment-key"}));
}

TEST(Deployment, AnEmptyIdFileIsAnError) {
  TempDir dir;
  { std::ofstream(dir.path() + "/deployment-id") << "\n"; }
  auto loaded = load_or_create_deployment(dir.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find("deployment-id"), std::string::npos);
}

TEST(Deployment, AKeyOpenToOthersIsTightenedOnLoad) {
  TempDir dir;
  ASSERT_TRUE(load_or_create_deployment(dir.path()));
  const std::string key = dir.path() + "/deployment-key";
  std::filesystem::permissions(
      key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
               std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  ASSERT_TRUE(load_or_create_deployment(dir.path()));
  EXPECT_EQ(std::filesystem::status(key).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace
}  // namespace cordon::inspect
