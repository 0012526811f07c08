// Delivery scheduling policy for the gateway, free of I/O and of clocks:
// every decision takes "now" as an argument, so tests drive time by hand.
//
//  - RetryScheduler: when to try a deferred message again (retry schedule
//    with bounded, seedable jitter), when it has lived too long and must be
//    bounced, and when the one delay-warning DSN is due.
//  - CircuitBreaker / CircuitBreakers: per DLP host, stop hammering a host
//    that keeps failing (closed -> open after N consecutive failures ->
//    half-open probe after a cool-down -> closed on success).
//  - ConcurrencyLimiter: at most N messages at once per destination.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "queue/envelope.hpp"

namespace cordon::queue {

using Duration = std::chrono::milliseconds;
// Breakers and limiters measure intervals, so they use the monotonic clock.
using MonotonicTime = std::chrono::steady_clock::time_point;

struct RetryPolicy {
  // Delay after the 1st, 2nd, ... failed attempt; the last entry repeats.
  std::vector<Duration> schedule = {std::chrono::minutes(1), std::chrono::minutes(5),
                                    std::chrono::minutes(15), std::chrono::hours(1)};
  // Each delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter]
  // so that messages deferred together (a DLP outage) do not come back
  // together. Clamped to [0, 0.5].
  double jitter = 0.1;
  Duration max_lifetime = std::chrono::hours(24);
  // After a message has waited this long, send one delay DSN; zero = never.
  Duration delay_warning_after = std::chrono::hours(4);
};

enum class RetryOutcome {
  retry,   // defer until next_attempt
  expire,  // max_lifetime reached: bounce with a DSN (Status 4.4.7)
};

struct RetryDecision {
  RetryOutcome outcome = RetryOutcome::retry;
  TimePoint next_attempt{};         // meaningful for retry
  bool send_delay_warning = false;  // send the delay DSN now, and remember it was sent
};

// Not thread-safe (it owns a random generator): one per worker thread, or
// guarded by the caller.
class RetryScheduler {
 public:
  RetryScheduler(RetryPolicy policy, std::uint64_t seed);

  // The jittered delay after `attempts` failed attempts (attempts >= 1;
  // smaller values count as 1). Never shorter than one second.
  Duration delay_after(int attempts);

  // What to do with a message that has just failed temporarily.
  // `attempts` counts that failed attempt. The next attempt is never later
  // than the expiry time, so an expiring message gets one final attempt
  // at its deadline rather than a late one.
  RetryDecision after_temporary_failure(TimePoint arrival, int attempts, bool delay_warning_sent,
                                        TimePoint now);

  // True once a message that arrived at `arrival` may no longer be retried.
  bool expired(TimePoint arrival, TimePoint now) const;

  const RetryPolicy& policy() const { return policy_; }

 private:
  RetryPolicy policy_;
  std::mt19937_64 random_;
};

struct BreakerPolicy {
  int failure_threshold = 5;                      // consecutive failures that open the breaker
  Duration cool_down = std::chrono::seconds(30);  // open -> one probe allowed
};

enum class BreakerState { closed, open, half_open };
std::string_view to_string(BreakerState state);

// The breaker of one host. Not thread-safe; CircuitBreakers is.
class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerPolicy policy = {}) : policy_(policy) {}

  // May a connection be attempted now? While open, no; once the cool-down
  // has passed, exactly one probe is allowed (half-open). A probe whose
  // outcome is never recorded is assumed lost after another cool-down, and
  // a new probe is allowed.
  bool allow(MonotonicTime now);
  void record_success();
  void record_failure(MonotonicTime now);

  BreakerState state() const { return state_; }
  int consecutive_failures() const { return failures_; }

 private:
  BreakerPolicy policy_;
  BreakerState state_ = BreakerState::closed;
  int failures_ = 0;
  MonotonicTime opened_at_{};
  MonotonicTime probe_started_{};
  bool probe_in_flight_ = false;
};

// One breaker per host, created on first use; thread-safe.
class CircuitBreakers {
 public:
  explicit CircuitBreakers(BreakerPolicy policy = {}) : policy_(policy) {}
  bool allow(const std::string& host, MonotonicTime now);
  void record_success(const std::string& host);
  void record_failure(const std::string& host, MonotonicTime now);
  BreakerState state(const std::string& host) const;

 private:
  BreakerPolicy policy_;
  mutable std::mutex mutex_;
  std::map<std::string, CircuitBreaker> breakers_;
};

// Counts messages in flight per destination; thread-safe. A Slot gives its
// place back when destroyed; the limiter must outlive its slots.
class ConcurrencyLimiter {
 public:
  class Slot {
   public:
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    friend class ConcurrencyLimiter;
    Slot(ConcurrencyLimiter* owner, std::string destination)
        : owner_(owner), destination_(std::move(destination)) {}
    void release();
    ConcurrencyLimiter* owner_;
    std::string destination_;
  };

  explicit ConcurrencyLimiter(std::size_t per_destination) : limit_(per_destination) {}

  // A slot, or nothing when `destination` already has the limit in flight.
  std::optional<Slot> try_acquire(const std::string& destination);
  std::size_t in_flight(const std::string& destination) const;

 private:
  std::size_t limit_;
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> in_flight_;
};

}  // namespace cordon::queue
