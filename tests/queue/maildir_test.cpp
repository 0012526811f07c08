// Maildir delivery (queue/maildir.hpp): one file in new/ with Return-Path
// and one Delivered-To per recipient on top, nothing left in tmp/, and a
// failure reported (not thrown) when the Maildir cannot be written.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "queue/maildir.hpp"

namespace cordon::queue {
namespace {

namespace fs = std::filesystem;

class MaildirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cordon-maildir-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(MaildirTest, DeliversOneFileIntoNewWithEnvelopeHeadersOnTop) {
  MaildirMessage m{"1K0WGRTWD910VJKH",
                   "alice@example.com",
                   {"a@example.net", "b@example.net"},
                   {"X-Cordon-DLP: bypassed"},
                   "Subject: hi\r\n\r\nbody\r\n"};
  auto path = deliver_to_maildir(root_ / "maildir", "gw.test", m);
  ASSERT_TRUE(path.has_value()) << path.error();
  EXPECT_EQ(path->parent_path(), root_ / "maildir" / "new");
  EXPECT_NE(path->filename().string().find("Q1K0WGRTWD910VJKH"), std::string::npos);
  EXPECT_EQ(read(*path),
            "Return-Path: <alice@example.com>\r\nDelivered-To: a@example.net\r\n"
            "Delivered-To: b@example.net\r\nX-Cordon-DLP: bypassed\r\nSubject: hi\r\n\r\nbody\r\n");
  EXPECT_TRUE(fs::is_empty(root_ / "maildir" / "tmp"));
  EXPECT_TRUE(fs::is_directory(root_ / "maildir" / "cur"));
}

TEST_F(MaildirTest, NullSenderAndTwoDeliveriesOfOneQueueEntryGetTwoFiles) {
  MaildirMessage m{"1K0WGRTWD910VJKH", "", {"alice@example.com"}, {}, "x\r\n"};
  auto first = deliver_to_maildir(root_, "gw.test", m);
  auto second = deliver_to_maildir(root_, "gw.test", m);
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
  EXPECT_EQ(read(*first).rfind("Return-Path: <>\r\n", 0), 0u);
}

TEST_F(MaildirTest, UnwritableMaildirIsReportedAsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  fs::create_directories(root_ / "ro");
  ::chmod((root_ / "ro").c_str(), 0500);
  MaildirMessage m{"1K0WGRTWD910VJKH", "a@example.com", {"b@example.net"}, {}, "x\r\n"};
  auto r = deliver_to_maildir(root_ / "ro" / "maildir", "gw.test", m);
  EXPECT_FALSE(r.has_value());
}

TEST_F(MaildirTest, AFileWhereTheMaildirShouldBeIsReportedAsAnError) {
  std::ofstream(root_ / "maildir") << "not a directory";
  MaildirMessage m{"1K0WGRTWD910VJKH", "a@example.com", {"b@example.net"}, {}, "x\r\n"};
  auto r = deliver_to_maildir(root_ / "maildir", "gw.test", m);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("create"), std::string::npos);
}

}  // namespace
}  // namespace cordon::queue
