// When the gateway's queue manager starts an attempt and when it rescans
// the spool; the manager owns the timer and the coroutines, this the
// decisions. Single-threaded (the I/O thread).
//
// At most `concurrency` attempts run per destination (the DLP pool is one
// destination, the next hop another), and a message is never worked on
// twice at once. A message that finds its destination full waits for a
// scan; the end of an attempt while one waited brings that scan forward
// (`soon`), and a burst of such ends shares one scan.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>

#include "queue/schedule.hpp"

namespace cordon::queue {

class Dispatcher {
 public:
  static constexpr std::chrono::milliseconds kScanInterval{1000};
  // Short enough to keep a backlog moving, long enough that a burst of
  // completions shares one directory scan.
  static constexpr std::chrono::milliseconds kSoonInterval{10};

  explicit Dispatcher(std::size_t concurrency) : limiter_(concurrency) {}

  // The slot to start an attempt on `id` with, or nothing: already in
  // flight, or `destination` full (then a later scan picks it up).
  std::optional<ConcurrencyLimiter::Slot> start(const std::string& id,
                                                const std::string& destination);
  // The attempt on `id` is over and its slot given back. A delay: schedule
  // a scan after it (a message waited for a slot).
  std::optional<std::chrono::milliseconds> finished(const std::string& id);
  // The message could not be claimed: no attempt ran.
  void abandoned(const std::string& id) { in_flight_.erase(id); }
  bool busy() const { return !in_flight_.empty(); }

  // The scan timer fired: true to start a scan now.
  bool timer_fired();
  void scan_started() { scanning_ = true; }
  void scan_listed() { scanning_ = false; }
  // The scan dispatched what was due: the delay to the next one.
  std::chrono::milliseconds scan_done();

 private:
  std::optional<std::chrono::milliseconds> soon();

  ConcurrencyLimiter limiter_;
  std::set<std::string> in_flight_;
  bool scanning_ = false;
  bool starved_ = false;         // a due message found every slot of its destination taken
  bool soon_scheduled_ = false;  // a soon() scan is pending
  bool rescan_after_scan_ = false;
};

}  // namespace cordon::queue
