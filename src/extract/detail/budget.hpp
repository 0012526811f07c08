// The per-message expansion budget: one enforcement point for every
// extraction limit. Message-wide limits (expanded bytes, file count, time)
// exhaust the budget and stop all further expansion; per-file limits
// (file bytes, ratio, depth) only stop the file concerned.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "extract/extract.hpp"

namespace cordon::extract::detail {

class Budget {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Budget(const Limits& limits, Clock::time_point start = Clock::now())
      : limits_(limits), deadline_(start + limits.max_time) {}

  const Limits& limits() const { return limits_; }

  // Records that `kind` was reached while expanding `where`.
  void hit(LimitKind kind, const std::string& where, std::string detail);

  // A message-wide limit was reached: nothing more is expanded.
  bool exhausted() const { return exhausted_; }

  // Checks the clock; records the time limit when it has passed.
  bool out_of_time(const std::string& where);

  // Accounts for `n` more expanded bytes; false (and recorded) when the
  // message-wide byte limit would be exceeded.
  bool charge(std::size_t n, const std::string& where);
  std::size_t bytes_left() const { return limits_.max_message_bytes - expanded_; }

  // Accounts for one more extracted member; false (and recorded) when the
  // file-count limit is reached.
  bool take_file(const std::string& where);

  const std::vector<LimitHit>& hits() const { return hits_; }
  std::vector<LimitHit> take_hits() { return std::move(hits_); }

 private:
  Limits limits_;
  Clock::time_point deadline_;
  std::size_t expanded_ = 0;
  std::size_t files_ = 0;
  bool exhausted_ = false;
  std::vector<LimitHit> hits_;
};

}  // namespace cordon::extract::detail
