// Queue ids and the header that carries one through DLP and back
// (queue/queue_id.hpp).
#include <gtest/gtest.h>

#include "queue/queue_id.hpp"

namespace cordon::queue {
namespace {

TEST(QueueIdHeader, FoundOnAnyLineOfTheHeaderWhateverItsCase) {
  EXPECT_EQ(find_queue_id_header("X-Cordon-Queue-Id: 1K0WGRTWD910VJKH\r\nSubject: x\r\n"),
            "1K0WGRTWD910VJKH");
  EXPECT_EQ(find_queue_id_header("Received: by x\r\nx-cordon-queue-id:\t1K0WGRTWD910VJKH \r\n\r\n"),
            "1K0WGRTWD910VJKH");
}

TEST(QueueIdHeader, AbsentOrIncompleteGivesNothing) {
  EXPECT_EQ(find_queue_id_header("Subject: X-Cordon-Queue-Id: 1\r\n\r\n"), "");
  EXPECT_EQ(find_queue_id_header("X-Cordon-Queue-Id: 1K0WGRTWD91"), "");
  EXPECT_EQ(find_queue_id_header(""), "");
}

TEST(QueueId, MadeIdsAreValidAndSortByTime) {
  auto now = std::chrono::system_clock::now();
  auto a = make_queue_id(now);
  auto b = make_queue_id(now + std::chrono::seconds(1));
  EXPECT_TRUE(is_valid_queue_id(a));
  EXPECT_LT(a, b);
  EXPECT_FALSE(is_valid_queue_id("../../etc/passwd"));
}

}  // namespace
}  // namespace cordon::queue
