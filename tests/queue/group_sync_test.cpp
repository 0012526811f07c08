// The group commit of a state directory: callers arriving during an fsync
// share the next one, none returns before an fsync that began after it
// called, and a failed fsync fails its whole batch.
#include "queue/detail/group_sync.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;

// A directory fsync that blocks until the test lets it finish, and records
// how many have begun.
class GatedSync {
 public:
  SpoolResult<Ok> operator()(const std::filesystem::path&) {
    std::unique_lock lock(mutex_);
    const int mine = begun_++;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_ > mine; });
    if (fail_ == mine) return fail(SpoolFailure{SpoolError::io_error, "fsync: EIO"});
    return Ok{};
  }
  void wait_begun(int n) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&] { return begun_ >= n; }));
  }
  void release_one() {
    std::lock_guard lock(mutex_);
    ++released_;
    changed_.notify_all();
  }
  void fail_number(int n) {
    std::lock_guard lock(mutex_);
    fail_ = n;
  }
  int begun() {
    std::lock_guard lock(mutex_);
    return begun_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int begun_ = 0, released_ = 0, fail_ = -1;
};

std::future<SpoolResult<Ok>> call(DirectorySync& sync) {
  return std::async(std::launch::async, [&sync] { return sync.sync(); });
}

// Waits until `n` callers are inside sync() (the count is taken under the lock).
void wait_callers(DirectorySync& sync, std::uint64_t n) {
  for (int i = 0; i < 500 && sync.callers() < n; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(sync.callers(), n);
}

TEST(DirectorySync, CallersDuringAnFsyncShareTheNextOneAndWaitForIt) {
  GatedSync gate;
  DirectorySync sync("/unused", [&gate](const auto& p) { return gate(p); });
  auto first = call(sync);
  gate.wait_begun(1);
  std::vector<std::future<SpoolResult<Ok>>> later;
  for (int i = 0; i < 5; ++i) later.push_back(call(sync));
  wait_callers(sync, 6);
  gate.release_one();  // the first fsync ends: it began before the others called
  ASSERT_TRUE(first.get().has_value());
  gate.wait_begun(2);
  for (auto& f : later) EXPECT_EQ(f.wait_for(50ms), std::future_status::timeout);
  gate.release_one();
  for (auto& f : later) EXPECT_TRUE(f.get().has_value());
  EXPECT_EQ(sync.fsyncs(), 2u);  // six callers, two fsyncs
  EXPECT_EQ(gate.begun(), 2);
}

TEST(DirectorySync, AFailedFsyncFailsEveryCallerItCoveredAndNoOneElse) {
  GatedSync gate;
  DirectorySync sync("/unused", [&gate](const auto& p) { return gate(p); });
  gate.fail_number(1);
  auto first = call(sync);
  gate.wait_begun(1);
  auto a = call(sync);
  auto b = call(sync);
  wait_callers(sync, 3);
  gate.release_one();
  EXPECT_TRUE(first.get().has_value());
  gate.wait_begun(2);
  gate.release_one();  // fsync number 1 fails: a and b were waiting on it
  auto ra = a.get(), rb = b.get();
  ASSERT_FALSE(ra.has_value());
  ASSERT_FALSE(rb.has_value());
  EXPECT_EQ(ra.error().code, SpoolError::io_error);
  auto after = call(sync);
  gate.wait_begun(3);
  gate.release_one();
  EXPECT_TRUE(after.get().has_value());
}

TEST(DirectorySync, ARealDirectoryIsFsyncedAndAMissingOneFails) {
  auto dir = std::filesystem::temp_directory_path();
  DirectorySync real(dir);
  EXPECT_TRUE(real.sync().has_value());
  DirectorySync missing(dir / "cordon-no-such-directory-for-group-sync");
  auto r = missing.sync();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, SpoolError::not_found);
}

}  // namespace
}  // namespace cordon::queue
