// Retry timing: schedule lookup, jitter, expiry and the delay warning.
#include "queue/schedule.hpp"

#include <algorithm>

namespace cordon::queue {

RetryScheduler::RetryScheduler(RetryPolicy policy, std::uint64_t seed)
    : policy_(std::move(policy)), random_(seed) {
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 0.5);
  if (policy_.schedule.empty()) policy_.schedule.push_back(std::chrono::minutes(5));
}

Duration RetryScheduler::delay_after(int attempts) {
  std::size_t index = static_cast<std::size_t>(std::max(attempts, 1) - 1);
  Duration base = policy_.schedule[std::min(index, policy_.schedule.size() - 1)];
  double factor = 1.0;
  if (policy_.jitter > 0) {
    std::uniform_real_distribution<double> spread(1.0 - policy_.jitter, 1.0 + policy_.jitter);
    factor = spread(random_);
  }
  auto jittered = Duration(static_cast<Duration::rep>(static_cast<double>(base.count()) * factor));
  return std::max<Duration>(jittered, std::chrono::seconds(1));
}

bool RetryScheduler::expired(TimePoint arrival, TimePoint now) const {
  return now >= arrival + policy_.max_lifetime;
}

RetryDecision RetryScheduler::after_temporary_failure(TimePoint arrival, int attempts,
                                                      bool delay_warning_sent, TimePoint now) {
  RetryDecision decision;
  if (expired(arrival, now)) {
    decision.outcome = RetryOutcome::expire;
    return decision;
  }
  decision.next_attempt = std::min(now + delay_after(attempts), arrival + policy_.max_lifetime);
  decision.send_delay_warning = !delay_warning_sent && policy_.delay_warning_after.count() > 0 &&
                                now - arrival >= policy_.delay_warning_after;
  return decision;
}

}  // namespace cordon::queue
