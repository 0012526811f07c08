// Retry schedule, jitter bounds, expiry, the delay warning, circuit
// breakers and the concurrency limiter, all on hand-driven clocks.
#include <gtest/gtest.h>

#include <set>

#include "queue/schedule.hpp"

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;

const TimePoint kArrival = TimePoint{} + std::chrono::hours(24 * 20000);

RetryPolicy exact_policy() {
  RetryPolicy p;
  p.schedule = {1min, 5min, 15min, 1h};
  p.jitter = 0;
  p.max_lifetime = 24h;
  p.delay_warning_after = 4h;
  return p;
}

TEST(RetryScheduler, FollowsTheScheduleAndRepeatsTheLastStep) {
  RetryScheduler s(exact_policy(), 1);
  EXPECT_EQ(s.delay_after(1), Duration(1min));
  EXPECT_EQ(s.delay_after(2), Duration(5min));
  EXPECT_EQ(s.delay_after(3), Duration(15min));
  EXPECT_EQ(s.delay_after(4), Duration(1h));
  EXPECT_EQ(s.delay_after(5), Duration(1h));
  EXPECT_EQ(s.delay_after(50), Duration(1h));
  EXPECT_EQ(s.delay_after(0), Duration(1min));
}

TEST(RetryScheduler, JitterStaysWithinItsBoundsAndActuallySpreads) {
  RetryPolicy p = exact_policy();
  p.jitter = 0.2;
  RetryScheduler s(p, 42);
  std::set<Duration::rep> seen;
  for (int i = 0; i < 10000; ++i) {
    Duration d = s.delay_after(2);
    ASSERT_GE(d, Duration(4min));  // 5min * 0.8
    ASSERT_LE(d, Duration(6min));  // 5min * 1.2
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 1000u);
}

TEST(RetryScheduler, SameSeedGivesTheSameDelays) {
  RetryPolicy p = exact_policy();
  p.jitter = 0.3;
  RetryScheduler a(p, 7), b(p, 7), c(p, 8);
  bool differs_from_other_seed = false;
  for (int i = 1; i < 50; ++i) {
    Duration da = a.delay_after(i);
    EXPECT_EQ(da, b.delay_after(i));
    differs_from_other_seed |= da != c.delay_after(i);
  }
  EXPECT_TRUE(differs_from_other_seed);
}

TEST(RetryScheduler, DelayIsNeverUnderOneSecond) {
  RetryPolicy p = exact_policy();
  p.schedule = {100ms};
  p.jitter = 0.5;
  RetryScheduler s(p, 3);
  for (int i = 0; i < 100; ++i) EXPECT_GE(s.delay_after(1), Duration(1s));
}

TEST(RetryScheduler, RetriesUntilMaxLifetimeThenExpires) {
  RetryScheduler s(exact_policy(), 1);
  auto d = s.after_temporary_failure(kArrival, 1, false, kArrival + 10s);
  EXPECT_EQ(d.outcome, RetryOutcome::retry);
  EXPECT_EQ(d.next_attempt, kArrival + 10s + 1min);
  EXPECT_FALSE(d.send_delay_warning);

  // Close to the deadline the next attempt is the deadline itself...
  d = s.after_temporary_failure(kArrival, 20, true, kArrival + 23h + 30min);
  EXPECT_EQ(d.outcome, RetryOutcome::retry);
  EXPECT_EQ(d.next_attempt, kArrival + 24h);
  // ...and a failure at the deadline bounces.
  d = s.after_temporary_failure(kArrival, 21, true, kArrival + 24h);
  EXPECT_EQ(d.outcome, RetryOutcome::expire);
  EXPECT_FALSE(s.expired(kArrival, kArrival + 24h - 1ms));
  EXPECT_TRUE(s.expired(kArrival, kArrival + 24h));
}

TEST(RetryScheduler, DelayWarningIsDueOnceAfterTheConfiguredWait) {
  RetryScheduler s(exact_policy(), 1);
  EXPECT_FALSE(
      s.after_temporary_failure(kArrival, 5, false, kArrival + 4h - 1s).send_delay_warning);
  EXPECT_TRUE(s.after_temporary_failure(kArrival, 6, false, kArrival + 4h).send_delay_warning);
  EXPECT_FALSE(s.after_temporary_failure(kArrival, 7, true, kArrival + 5h).send_delay_warning);

  RetryPolicy never = exact_policy();
  never.delay_warning_after = Duration::zero();
  RetryScheduler n(never, 1);
  EXPECT_FALSE(n.after_temporary_failure(kArrival, 6, false, kArrival + 20h).send_delay_warning);
}

const MonotonicTime kStart = MonotonicTime{} + std::chrono::hours(1);

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  CircuitBreaker b({3, 30s});
  b.record_failure(kStart);
  b.record_failure(kStart);
  b.record_success();  // breaks the run
  b.record_failure(kStart);
  b.record_failure(kStart);
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_TRUE(b.allow(kStart));
  b.record_failure(kStart + 1s);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_FALSE(b.allow(kStart + 1s));
  EXPECT_FALSE(b.allow(kStart + 30s));
}

TEST(CircuitBreaker, AllowsOneProbeAfterCoolDownAndClosesOnSuccess) {
  CircuitBreaker b({1, 30s});
  b.record_failure(kStart);
  EXPECT_FALSE(b.allow(kStart + 29s));
  EXPECT_TRUE(b.allow(kStart + 31s));
  EXPECT_EQ(b.state(), BreakerState::half_open);
  EXPECT_FALSE(b.allow(kStart + 32s));  // only one probe at a time
  b.record_success();
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_TRUE(b.allow(kStart + 32s));
  EXPECT_TRUE(b.allow(kStart + 32s));
}

TEST(CircuitBreaker, FailedProbeReopensForAnotherCoolDown) {
  CircuitBreaker b({2, 10s});
  b.record_failure(kStart);
  b.record_failure(kStart);
  ASSERT_TRUE(b.allow(kStart + 10s));
  b.record_failure(kStart + 11s);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_FALSE(b.allow(kStart + 20s));
  EXPECT_TRUE(b.allow(kStart + 21s));
}

TEST(CircuitBreaker, LostProbeIsReplacedAfterACoolDown) {
  CircuitBreaker b({1, 10s});
  b.record_failure(kStart);
  ASSERT_TRUE(b.allow(kStart + 10s));
  EXPECT_FALSE(b.allow(kStart + 19s));
  EXPECT_TRUE(b.allow(kStart + 20s));
}

TEST(CircuitBreakers, KeepsOneBreakerPerHost) {
  CircuitBreakers board({1, 10s});
  board.record_failure("10.0.0.1:10025", kStart);
  EXPECT_EQ(board.state("10.0.0.1:10025"), BreakerState::open);
  EXPECT_FALSE(board.allow("10.0.0.1:10025", kStart + 1s));
  EXPECT_TRUE(board.allow("10.0.0.2:10025", kStart + 1s));
  EXPECT_EQ(board.state("10.0.0.2:10025"), BreakerState::closed);
}

TEST(ConcurrencyLimiter, CountsPerDestinationAndReleasesOnDestruction) {
  ConcurrencyLimiter limiter(2);
  auto a = limiter.try_acquire("mx.example.com");
  auto b = limiter.try_acquire("mx.example.com");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limiter.try_acquire("mx.example.com").has_value());
  EXPECT_TRUE(limiter.try_acquire("other.example.com").has_value());
  EXPECT_EQ(limiter.in_flight("mx.example.com"), 2u);
  EXPECT_EQ(limiter.in_flight("other.example.com"), 0u);
  a.reset();
  EXPECT_EQ(limiter.in_flight("mx.example.com"), 1u);
  auto c = limiter.try_acquire("mx.example.com");
  EXPECT_TRUE(c.has_value());
  auto moved = std::move(*c);
  c.reset();  // a moved-from slot gives nothing back
  EXPECT_EQ(limiter.in_flight("mx.example.com"), 2u);
}

}  // namespace
}  // namespace cordon::queue
