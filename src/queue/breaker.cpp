// Circuit breakers for DLP hosts and the per-destination concurrency
// limiter (the stateful half of schedule.hpp).
#include <utility>

#include "queue/schedule.hpp"

namespace cordon::queue {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::closed:
      return "closed";
    case BreakerState::open:
      return "open";
    case BreakerState::half_open:
      return "half-open";
  }
  return "closed";
}

bool CircuitBreaker::allow(MonotonicTime now) {
  switch (state_) {
    case BreakerState::closed:
      return true;
    case BreakerState::open:
      if (now - opened_at_ < policy_.cool_down) return false;
      state_ = BreakerState::half_open;
      probe_in_flight_ = true;
      probe_started_ = now;
      return true;
    case BreakerState::half_open:
      if (probe_in_flight_ && now - probe_started_ < policy_.cool_down) return false;
      probe_in_flight_ = true;
      probe_started_ = now;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  state_ = BreakerState::closed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::record_failure(MonotonicTime now) {
  ++failures_;
  // A failed probe reopens at once: the host has not recovered.
  if (state_ == BreakerState::half_open || failures_ >= policy_.failure_threshold) {
    state_ = BreakerState::open;
    opened_at_ = now;
    probe_in_flight_ = false;
  }
}

bool CircuitBreakers::allow(const std::string& host, MonotonicTime now) {
  std::lock_guard lock(mutex_);
  return breakers_.try_emplace(host, policy_).first->second.allow(now);
}

void CircuitBreakers::record_success(const std::string& host) {
  std::lock_guard lock(mutex_);
  breakers_.try_emplace(host, policy_).first->second.record_success();
}

void CircuitBreakers::record_failure(const std::string& host, MonotonicTime now) {
  std::lock_guard lock(mutex_);
  breakers_.try_emplace(host, policy_).first->second.record_failure(now);
}

BreakerState CircuitBreakers::state(const std::string& host) const {
  std::lock_guard lock(mutex_);
  auto it = breakers_.find(host);
  return it == breakers_.end() ? BreakerState::closed : it->second.state();
}

ConcurrencyLimiter::Slot::Slot(Slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), destination_(std::move(other.destination_)) {}

ConcurrencyLimiter::Slot& ConcurrencyLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    destination_ = std::move(other.destination_);
  }
  return *this;
}

ConcurrencyLimiter::Slot::~Slot() {
  release();
}

void ConcurrencyLimiter::Slot::release() {
  if (!owner_) return;
  std::lock_guard lock(owner_->mutex_);
  auto it = owner_->in_flight_.find(destination_);
  if (it != owner_->in_flight_.end() && --it->second == 0) owner_->in_flight_.erase(it);
  owner_ = nullptr;
}

std::optional<ConcurrencyLimiter::Slot> ConcurrencyLimiter::try_acquire(
    const std::string& destination) {
  std::lock_guard lock(mutex_);
  std::size_t& count = in_flight_[destination];
  if (count >= limit_) {
    if (count == 0) in_flight_.erase(destination);
    return std::nullopt;
  }
  ++count;
  return Slot(this, destination);
}

std::size_t ConcurrencyLimiter::in_flight(const std::string& destination) const {
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(destination);
  return it == in_flight_.end() ? 0 : it->second;
}

}  // namespace cordon::queue
