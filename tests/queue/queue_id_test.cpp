// The header that carries a queue id through DLP and back
// (queue/queue_id.hpp; the ids themselves are tested in spool_test.cpp).
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

}  // namespace
}  // namespace cordon::queue
