// The inspected copy kept in its original's entry: what is written, what
// every later load, update, read and recovery makes of it, and when the
// copy must be queued whole instead.
#include "queue/inspected_copy.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "queue/smtp_envelope.hpp"
#include "spool_fixture.hpp"

namespace cordon::queue {
namespace {

using testing::commit_message;
using testing::sample_envelope;

constexpr std::string_view kOriginal = "Subject: hi\r\n\r\nclean text\r\n";
// 8-bit bytes too: header lines need not be UTF-8, the envelope is JSON.
constexpr std::string_view kAdded =
    "X-Cordon-Inspected: v1 pass\r\nX-Note: caf\xc3\xa9 \xff\r\nX-Cordon-Queue-Id: Q\r\n";
constexpr std::string_view kReceived = "Received: from dlp by gw (cordon) id Q;\r\n\tnow\r\n";

class InspectedCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Spool::open({dir_.path(), 0});
    ASSERT_TRUE(opened.has_value());
    spool_.emplace(std::move(*opened));
    id_ = commit_message(*spool_, kOriginal);
    ASSERT_TRUE(spool_->activate(id_).has_value());
  }
  Envelope copy_envelope() const {
    Envelope e = sample_envelope();
    e.flags.inspected = true;
    e.flags.dlp_resubmitted = true;
    e.recipients.resize(1);
    return e;
  }
  std::filesystem::path entry(std::string_view state) const {
    return dir_.path() / "queue" / state / id_;
  }
  std::string copy() const { return std::string(kAdded) + std::string(kOriginal); }

  testing::TempDir dir_;
  std::optional<Spool> spool_;
  std::string id_;
};

TEST_F(InspectedCopyTest, TheCopyOfTheOriginalContentIsKeptInTheEntry) {
  auto kept = keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, copy());
  ASSERT_TRUE(kept.has_value()) << kept.error().detail;
  EXPECT_TRUE(*kept);
  EXPECT_TRUE(std::filesystem::exists(entry("active") / "inspected.json"));
  // Nothing else was queued: one entry, the content file untouched.
  auto all = spool_->list();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 1u);
  const auto& m = all->front();
  EXPECT_EQ(m.id, id_);
  EXPECT_TRUE(m.envelope.flags.inspected);
  EXPECT_EQ(m.envelope.recipients.size(), 1u);
  EXPECT_EQ(m.envelope.content_prefix, std::string(kReceived) + std::string(kAdded));
  EXPECT_EQ(m.envelope.content_size, kOriginal.size());
  EXPECT_EQ(*spool_->read_content(id_, QueueState::active), kOriginal);
  // What is delivered is the copy exactly, behind the gateway's Received line.
  auto content = spool_->read_checked(m);
  ASSERT_TRUE(content.has_value()) << content.error().detail;
  EXPECT_EQ(*content, std::string(kReceived) + copy());
}

TEST_F(InspectedCopyTest, TheCopyIsTheEntryAfterARequeueAnUpdateAndARecovery) {
  ASSERT_TRUE(*keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, copy()));
  ASSERT_TRUE(spool_->requeue(id_).has_value());
  auto claimed = spool_->activate(id_);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(claimed->envelope.flags.inspected);
  // A deferral writes the copy's envelope, not the original's.
  auto envelope = claimed->envelope;
  envelope.attempts = 3;
  ASSERT_TRUE(spool_->defer(id_, envelope).has_value());
  auto deferred = spool_->find(id_);
  ASSERT_TRUE(deferred.has_value());
  EXPECT_EQ(deferred->state, QueueState::deferred);
  EXPECT_EQ(deferred->envelope.attempts, 3);
  EXPECT_TRUE(deferred->envelope.flags.inspected);
  EXPECT_EQ(deferred->envelope.content_prefix, std::string(kReceived) + std::string(kAdded));
  // A crash while the copy waits in active/: recovery keeps it the copy.
  ASSERT_TRUE(spool_->activate(id_).has_value());
  auto recovered = spool_->recover();
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(recovered->quarantined, 0u);
  auto found = spool_->find(id_);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, QueueState::incoming);
  EXPECT_TRUE(found->envelope.flags.inspected);
  EXPECT_EQ(*spool_->read_checked(*found), std::string(kReceived) + copy());
  ASSERT_TRUE(spool_->remove(id_).has_value());
  EXPECT_FALSE(spool_->find(id_).has_value());
}

TEST_F(InspectedCopyTest, ChangedContentIsQueuedWhole) {
  std::string changed = copy();
  changed.replace(changed.find("clean"), 5, "CLEAN");
  auto kept = keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, changed);
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(*kept);
  EXPECT_FALSE(std::filesystem::exists(entry("active") / "inspected.json"));
  // Content shorter than the original (DLP removed a part) as well.
  kept = keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, "short");
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(*kept);
}

TEST_F(InspectedCopyTest, OnlyAnActiveEntryWithoutACopyTakesOne) {
  ASSERT_TRUE(*keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, copy()));
  // A second copy of the same message is queued whole.
  auto again = keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, copy());
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
  // An original that is no longer active (its attempt ended) takes none.
  auto other = commit_message(*spool_, kOriginal);
  auto kept = keep_inspected_in_place(*spool_, other, copy_envelope(), kReceived, copy());
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(*kept);
  kept = keep_inspected_in_place(*spool_, "0000000000000000", copy_envelope(), kReceived, copy());
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(*kept);
}

TEST_F(InspectedCopyTest, ADamagedContentFileIsQuarantinedNotDelivered) {
  ASSERT_TRUE(*keep_inspected_in_place(*spool_, id_, copy_envelope(), kReceived, copy()));
  {
    std::ofstream out(entry("active") / "content", std::ios::binary | std::ios::trunc);
    out << "Subject: hi\r\n\r\nCLEAN text\r\n";  // same size, other bytes
  }
  auto m = spool_->find(id_);
  ASSERT_TRUE(m.has_value());
  auto content = spool_->read_checked(*m);
  ASSERT_FALSE(content.has_value());
  EXPECT_EQ(content.error().code, SpoolError::corrupt);
}

TEST_F(InspectedCopyTest, StoreKeepsTheCopyOrQueuesItWholeUnderItsOwnId) {
  auto received = [](const std::string& id) { return "Received: by gw id " + id + ";\r\n"; };
  auto kept = store_inspected_copy(*spool_, id_, true, copy_envelope(), received, copy());
  EXPECT_TRUE(kept.kept);
  EXPECT_FALSE(kept.queued);
  // Not allowed to keep (its attempt is not waiting): queued whole, with a
  // Received line naming the new entry.
  auto whole = store_inspected_copy(*spool_, id_, false, copy_envelope(), received, copy());
  EXPECT_FALSE(whole.kept);
  ASSERT_TRUE(whole.queued && *whole.queued);
  const std::string& new_id = **whole.queued;
  EXPECT_NE(new_id, id_);
  EXPECT_EQ(*spool_->read_content(new_id, QueueState::incoming),
            "Received: by gw id " + new_id + ";\r\n" + copy());
}

TEST(InPlaceCopies, OneCopyPerOpenAttemptAndCloseSaysWhetherItWasKept) {
  InPlaceCopies copies;
  EXPECT_FALSE(copies.begin("A"));  // no attempt waits for it
  copies.open("A");
  EXPECT_TRUE(copies.begin("A"));
  EXPECT_TRUE(copies.writing("A"));
  EXPECT_FALSE(copies.begin("A"));  // one write at a time
  copies.end("A", false);           // not kept: another copy may try
  EXPECT_FALSE(copies.writing("A"));
  EXPECT_TRUE(copies.begin("A"));
  copies.end("A", true);
  EXPECT_FALSE(copies.begin("A"));  // kept: a second copy is queued whole
  EXPECT_TRUE(copies.close("A"));
  EXPECT_FALSE(copies.close("A"));  // forgotten
  copies.open("B");
  EXPECT_FALSE(copies.close("B"));
}

}  // namespace
}  // namespace cordon::queue
