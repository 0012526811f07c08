// RoleThread: the role is built and started on the caller's thread, then its
// io_context runs on a thread of its own, where every later call of the
// runtime (reload, shutdown, busy) runs too, the caller waiting for it.
#include "roles/role_thread.hpp"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <future>
#include <thread>

namespace cordon::roles {
namespace {

struct Seen {
  std::thread::id built, started, handler, reloaded, shut_down, asked_busy;
  std::atomic<int> destroyed{0};
};

class RecordingRole final : public Role {
 public:
  RecordingRole(Shared& shared, Seen& seen) : shared_(shared), seen_(seen) {
    seen_.built = std::this_thread::get_id();
  }
  ~RecordingRole() override { ++seen_.destroyed; }
  std::string_view name() const override { return "recording"; }
  Status<std::string> start() override {
    seen_.started = std::this_thread::get_id();
    // Work the role queues at start runs on the role's own thread.
    asio::post(shared_.io, [this] {
      seen_.handler = std::this_thread::get_id();
      handled_.set_value();
    });
    return Ok{};
  }
  void reload(const std::shared_ptr<const config::Config>&) override {
    seen_.reloaded = std::this_thread::get_id();
  }
  void shutdown() override {
    seen_.shut_down = std::this_thread::get_id();
    stopping_ = true;
  }
  bool busy() const override {
    seen_.asked_busy = std::this_thread::get_id();
    return !stopping_;
  }
  std::future<void> handled() { return handled_.get_future(); }

 private:
  Shared& shared_;
  Seen& seen_;
  std::promise<void> handled_;
  bool stopping_ = false;  // touched on the role's thread only
};

struct Fixture {
  asio::io_context main_io;
  asio::thread_pool workers{1};
  ConfigSnapshot config;
  util::Metrics metrics;
  Shared shared{main_io,
                workers,
                config,
                metrics,
                [] { return Status<std::string>(Ok{}); },
                std::string(),
                [] {
                  return Result<std::shared_ptr<incidents::IncidentStore>, std::string>(
                      fail(std::string("no store")));
                }};
};

TEST(RoleThread, StartsOnTheCallerThenRunsEverythingOnItsOwnThread) {
  Fixture f;
  Seen seen;
  RecordingRole* role = nullptr;
  const auto caller = std::this_thread::get_id();
  {
    RoleThread threaded(f.shared, [&](Shared& own) -> RoleResult {
      EXPECT_NE(&own.io, &f.shared.io);  // its own io_context
      EXPECT_EQ(&own.workers, &f.shared.workers);
      auto made = std::make_unique<RecordingRole>(own, seen);
      role = made.get();
      return std::unique_ptr<Role>(std::move(made));
    });
    ASSERT_TRUE(threaded.made());
    EXPECT_EQ(threaded.name(), "recording");
    auto handled = role->handled();
    ASSERT_TRUE(threaded.start());
    EXPECT_EQ(seen.built, caller);
    EXPECT_EQ(seen.started, caller);
    ASSERT_EQ(handled.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    const auto own_thread = seen.handler;
    EXPECT_NE(own_thread, caller);

    threaded.reload(nullptr);
    EXPECT_EQ(seen.reloaded, own_thread);
    EXPECT_TRUE(threaded.busy());
    EXPECT_EQ(seen.asked_busy, own_thread);
    threaded.shutdown();
    EXPECT_EQ(seen.shut_down, own_thread);
    EXPECT_FALSE(threaded.busy());
    threaded.stop_thread();
    // Once the thread is gone, calls run on the caller.
    threaded.reload(nullptr);
    EXPECT_EQ(seen.reloaded, caller);
    EXPECT_EQ(seen.destroyed, 0);
  }
  EXPECT_EQ(seen.destroyed, 1);
  f.workers.join();
}

TEST(RoleThread, AFactoryErrorIsKeptAndNothingRuns) {
  Fixture f;
  RoleThread threaded(f.shared,
                      [](Shared&) -> RoleResult { return fail(std::string("bad listen")); });
  ASSERT_FALSE(threaded.made());
  EXPECT_EQ(threaded.made().error(), "bad listen");
  f.workers.join();
}

}  // namespace
}  // namespace cordon::roles
