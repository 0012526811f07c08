// Attempt admission and scan pacing for the gateway's queue manager
// (queue/dispatch.hpp).
#include <gtest/gtest.h>

#include "queue/dispatch.hpp"

namespace cordon::queue {
namespace {

TEST(QueueDispatcher, AMessageInFlightIsNotStartedTwice) {
  Dispatcher d(2);
  auto slot = d.start("a", "dlp");
  ASSERT_TRUE(slot);
  EXPECT_TRUE(d.busy());
  EXPECT_FALSE(d.start("a", "dlp"));
  slot.reset();
  EXPECT_FALSE(d.finished("a"));
  EXPECT_FALSE(d.busy());
}

TEST(QueueDispatcher, AFullDestinationBringsTheNextScanForward) {
  Dispatcher d(1);
  auto slot = d.start("a", "dlp");
  ASSERT_TRUE(slot);
  EXPECT_TRUE(d.start("b", "maildir"));  // another destination has its own slots
  EXPECT_FALSE(d.start("c", "dlp"));     // starved
  slot.reset();
  EXPECT_EQ(d.finished("a"), Dispatcher::kSoonInterval);
}

TEST(QueueDispatcher, ABurstOfEndsSharesOneSoonScan) {
  Dispatcher d(1);
  auto a = d.start("a", "dlp");
  EXPECT_FALSE(d.start("b", "dlp"));
  a.reset();
  EXPECT_EQ(d.finished("a"), Dispatcher::kSoonInterval);
  auto c = d.start("c", "dlp");
  EXPECT_FALSE(d.start("b", "dlp"));
  c.reset();
  EXPECT_FALSE(d.finished("c"));  // the soon scan is still pending
  EXPECT_TRUE(d.timer_fired());
}

TEST(QueueDispatcher, AnEndDuringAScanRescansSoonAfterIt) {
  Dispatcher d(1);
  auto a = d.start("a", "dlp");
  EXPECT_FALSE(d.start("b", "dlp"));
  EXPECT_TRUE(d.timer_fired());
  d.scan_started();
  EXPECT_FALSE(d.timer_fired());  // no second scan while one runs
  a.reset();
  EXPECT_FALSE(d.finished("a"));
  d.scan_listed();
  EXPECT_EQ(d.scan_done(), Dispatcher::kSoonInterval);
  EXPECT_TRUE(d.timer_fired());
  d.scan_started();
  d.scan_listed();
  EXPECT_EQ(d.scan_done(), Dispatcher::kScanInterval);
}

}  // namespace
}  // namespace cordon::queue
