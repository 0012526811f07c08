// Limit accounting for one message's expansion (see budget.hpp).
#include "extract/detail/budget.hpp"

#include <algorithm>

namespace cordon::extract {

std::string_view to_string(LimitKind kind) {
  switch (kind) {
    case LimitKind::depth:
      return "max_depth";
    case LimitKind::message_bytes:
      return "max_message_bytes";
    case LimitKind::file_bytes:
      return "max_file_bytes";
    case LimitKind::ratio:
      return "max_ratio";
    case LimitKind::files:
      return "max_files";
    case LimitKind::time:
      return "max_time";
  }
  return "?";
}

namespace detail {

void Budget::hit(LimitKind kind, const std::string& where, std::string detail) {
  bool message_wide =
      kind == LimitKind::message_bytes || kind == LimitKind::files || kind == LimitKind::time;
  if (message_wide) exhausted_ = true;
  // One record per limit and file is enough to act on; a bomb must not
  // also flood the report.
  bool seen = std::any_of(hits_.begin(), hits_.end(), [&](const LimitHit& h) {
    return h.kind == kind && (message_wide || h.where == where);
  });
  if (!seen) hits_.push_back(LimitHit{kind, where, std::move(detail)});
}

bool Budget::out_of_time(const std::string& where) {
  if (exhausted_ && std::any_of(hits_.begin(), hits_.end(),
                                [](const LimitHit& h) { return h.kind == LimitKind::time; }))
    return true;
  if (Clock::now() < deadline_) return false;
  hit(LimitKind::time, where,
      "expansion took longer than " + std::to_string(limits_.max_time.count()) + " ms");
  return true;
}

bool Budget::charge(std::size_t n, const std::string& where) {
  if (n > bytes_left()) {
    hit(LimitKind::message_bytes, where,
        "more than " + std::to_string(limits_.max_message_bytes) +
            " bytes expanded from the message's attachments");
    return false;
  }
  expanded_ += n;
  return true;
}

bool Budget::take_file(const std::string& where) {
  if (files_ >= limits_.max_files) {
    hit(LimitKind::files, where,
        "more than " + std::to_string(limits_.max_files) + " files in the message's archives");
    return false;
  }
  ++files_;
  return true;
}

}  // namespace detail
}  // namespace cordon::extract
