// Reused message directories: a finished message's directory is kept under
// staging/ and the next message received overwrites its files; nothing of
// the old message may show through, and a spool without reuse, a held
// message, a full pool or a large content file keep nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "queue/detail/spare_entries.hpp"
#include "queue/spool.hpp"
#include "spool_fixture.hpp"

namespace cordon::queue {
namespace {

using testing::commit_message;
using testing::count_entries;
using testing::sample_envelope;

ino_t inode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

class SpareEntriesTest : public ::testing::Test {
 protected:
  Spool open(std::size_t reuse) {
    SpoolOptions options{dir_.path(), 0};
    options.reuse_entries = reuse;
    auto opened = Spool::open(options);
    EXPECT_TRUE(opened.has_value());
    return std::move(*opened);
  }
  std::filesystem::path queue_dir(std::string_view sub) const {
    return dir_.path() / "queue" / sub;
  }
  // A message committed, claimed, given an inspected copy, and finished.
  std::pair<std::string, ino_t> finish_one(const Spool& spool, std::string_view content,
                                           bool with_inspected_copy = true) {
    Envelope many = sample_envelope();
    for (int i = 0; i < 20; ++i)
      many.recipients.push_back(
          {"r" + std::to_string(i) + "@example.com", "", "", RecipientState::pending, ""});
    auto id = commit_message(spool, content, many);
    auto claimed = spool.activate(id);
    EXPECT_TRUE(claimed.has_value());
    if (with_inspected_copy) {
      Envelope inspected = claimed->envelope;
      EXPECT_TRUE(spool.attach_inspected(id, inspected).has_value());
    }
    const ino_t inode = inode_of(queue_dir("active") / id / "content");
    EXPECT_TRUE(spool.remove_finished(id).has_value());
    return {id, inode};
  }

  testing::TempDir dir_;
};

TEST_F(SpareEntriesTest, TheNextMessageOverwritesAFinishedOnesFilesAndNothingOfItShows) {
  Spool spool = open(4);
  const std::string long_content(64 * 1024, 'A');
  auto [old_id, old_inode] = finish_one(spool, long_content);
  EXPECT_EQ(count_entries(queue_dir("active")), 0u);
  EXPECT_EQ(count_entries(queue_dir("staging")), 1u);  // the kept directory
  EXPECT_EQ(spool.find(old_id).error().code, SpoolError::not_found);

  const std::string short_content = "Subject: new\r\n\r\nthe new message\r\n";
  auto id = commit_message(spool, short_content);
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
  const auto entry = queue_dir("incoming") / id;
  EXPECT_EQ(inode_of(entry / "content"), old_inode) << "the directory was not reused";
  EXPECT_FALSE(std::filesystem::exists(entry / "inspected.json"));
  EXPECT_EQ(std::filesystem::file_size(entry / "content"), short_content.size());

  auto found = spool.find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->envelope.recipients.size(), 2u);  // its own, not the old one's 22
  EXPECT_EQ(found->envelope.content_size, short_content.size());
  auto claimed = spool.activate(id);
  ASSERT_TRUE(claimed.has_value());
  auto read = spool.read_checked(*claimed);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, short_content);

  // A restart finds nothing to recover but the kept directories' leftovers.
  EXPECT_TRUE(spool.remove_finished(id).has_value());
  EXPECT_EQ(count_entries(queue_dir("staging")), 1u);
  auto report = spool.recover();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
  EXPECT_EQ(count_entries(queue_dir("incoming")), 0u);
}

TEST_F(SpareEntriesTest, TheInspectedCopyOfAReusedEntryTakesTheOldOnesFileWhole) {
  Spool spool = open(4);
  finish_one(spool, "first\r\n");
  auto id = commit_message(spool, "second\r\n");
  const auto incoming = queue_dir("incoming") / id;
  // The old message's inspected copy is kept under a name nothing reads.
  ASSERT_TRUE(std::filesystem::exists(incoming / "inspected.json.spare"));
  const ino_t spare_inode = inode_of(incoming / "inspected.json.spare");
  auto found = spool.find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->envelope.recipients.size(), 2u);

  auto claimed = spool.activate(id);
  ASSERT_TRUE(claimed.has_value());
  Envelope inspected = claimed->envelope;
  inspected.recipients.resize(1);
  ASSERT_TRUE(spool.attach_inspected(id, inspected).has_value());
  const auto active = queue_dir("active") / id;
  EXPECT_FALSE(std::filesystem::exists(active / "inspected.json.spare"));
  EXPECT_EQ(inode_of(active / "inspected.json"), spare_inode);
  found = spool.find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->envelope.recipients.size(), 1u);  // the copy's, cut to its length
  EXPECT_EQ(found->envelope.recipients[0].address, "bob@example.net");
  // Still one inspected copy per entry.
  EXPECT_FALSE(spool.attach_inspected(id, inspected).has_value());
}

TEST_F(SpareEntriesTest, ALargerMessageGrowsTheReusedFiles) {
  Spool spool = open(4);
  finish_one(spool, "short\r\n", false);
  const std::string larger(200 * 1024, 'b');
  auto id = commit_message(spool, larger);
  auto claimed = spool.activate(id);
  ASSERT_TRUE(claimed.has_value());
  auto read = spool.read_checked(*claimed);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, larger);
}

TEST_F(SpareEntriesTest, WithoutReuseAFinishedMessageLeavesNothing) {
  Spool spool = open(0);
  finish_one(spool, "content\r\n");
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
  EXPECT_EQ(count_entries(queue_dir("active")), 0u);
}

TEST_F(SpareEntriesTest, AMessageAnOperatorMovedIsRemovedWhereItIsAndNotKept) {
  Spool spool = open(4);
  auto id = commit_message(spool, "content\r\n");
  ASSERT_TRUE(spool.activate(id).has_value());
  ASSERT_TRUE(spool.hold(id, std::chrono::system_clock::now()).has_value());
  EXPECT_TRUE(spool.remove_finished(id).has_value());
  EXPECT_EQ(spool.find(id).error().code, SpoolError::not_found);
  EXPECT_EQ(count_entries(queue_dir("hold")), 0u);
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
}

TEST_F(SpareEntriesTest, AFullPoolAndALargeContentKeepNothingMore) {
  Spool spool = open(1);
  finish_one(spool, "one\r\n");
  finish_one(spool, "two\r\n");  // the first one's directory again, then kept again
  EXPECT_EQ(count_entries(queue_dir("staging")), 1u);
  // Two finishing while none is taken: only one is kept.
  auto a = commit_message(spool, "a\r\n");  // takes the kept one
  auto b = commit_message(spool, "b\r\n");
  ASSERT_TRUE(spool.activate(a).has_value());
  ASSERT_TRUE(spool.activate(b).has_value());
  EXPECT_TRUE(spool.remove_finished(a).has_value());
  EXPECT_TRUE(spool.remove_finished(b).has_value());
  EXPECT_EQ(count_entries(queue_dir("staging")), 1u);
}

TEST_F(SpareEntriesTest, ALargeContentFileIsNotKept) {
  Spool spool = open(4);
  finish_one(spool, std::string(kMaxSpareContent + 1, 'x'), false);
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
}

TEST(SpareEntries, ADirectoryWithSomethingUnexpectedInItIsNotKept) {
  testing::TempDir dir;
  SpareEntries spares(4, 1024);
  const auto entry = dir.path() / "entry";
  std::filesystem::create_directories(entry / "subdir");
  { std::ofstream(entry / "content") << "x"; }
  EXPECT_FALSE(spares.offer(entry));
  std::filesystem::remove(entry / "subdir");
  { std::ofstream(entry / "envelope.json.tmp-123") << "{}"; }
  { std::ofstream(entry / "inspected.json") << "{}"; }
  EXPECT_TRUE(spares.offer(entry));
  EXPECT_FALSE(std::filesystem::exists(entry / "inspected.json"));
  EXPECT_TRUE(std::filesystem::exists(entry / "inspected.json.spare"));
  EXPECT_FALSE(std::filesystem::exists(entry / "envelope.json.tmp-123"));
  EXPECT_TRUE(std::filesystem::exists(entry / "content"));
  EXPECT_EQ(spares.size(), 1u);
  EXPECT_EQ(spares.take(), entry);
  EXPECT_EQ(spares.take(), std::nullopt);

  const auto no_content = dir.path() / "empty";
  std::filesystem::create_directories(no_content);
  EXPECT_FALSE(spares.offer(no_content));
}

}  // namespace
}  // namespace cordon::queue
