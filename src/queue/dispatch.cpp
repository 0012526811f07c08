// Attempt admission and scan pacing; rules in queue/dispatch.hpp.
#include "queue/dispatch.hpp"

namespace cordon::queue {

std::optional<ConcurrencyLimiter::Slot> Dispatcher::start(const std::string& id,
                                                          const std::string& destination) {
  if (in_flight_.count(id)) return std::nullopt;
  auto slot = limiter_.try_acquire(destination);
  if (!slot) {
    starved_ = true;
    return std::nullopt;
  }
  in_flight_.insert(id);
  return slot;
}

std::optional<std::chrono::milliseconds> Dispatcher::finished(const std::string& id) {
  in_flight_.erase(id);
  if (!starved_) return std::nullopt;
  starved_ = false;
  return soon();
}

std::optional<std::chrono::milliseconds> Dispatcher::soon() {
  if (soon_scheduled_) return std::nullopt;
  if (scanning_) {
    rescan_after_scan_ = true;
    return std::nullopt;
  }
  soon_scheduled_ = true;
  return kSoonInterval;
}

bool Dispatcher::timer_fired() {
  if (scanning_) return false;
  soon_scheduled_ = false;
  return true;
}

std::chrono::milliseconds Dispatcher::scan_done() {
  if (!rescan_after_scan_) return kScanInterval;
  rescan_after_scan_ = false;
  soon_scheduled_ = true;
  return kSoonInterval;
}

}  // namespace cordon::queue
