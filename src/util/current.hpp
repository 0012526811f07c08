// The value in force now, for readers on any thread: a reload publishes a
// new immutable value and whoever took the previous one keeps it until it
// lets go (sessions keep the configuration they began with). One holder
// for the configuration and for every role's inspection snapshot.
#pragma once

#include <memory>
#include <mutex>

namespace cordon::util {

template <class T>
class Current {
 public:
  Current() = default;
  explicit Current(std::shared_ptr<const T> value) : value_(std::move(value)) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void set(std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    value_.swap(value);
    // The previous value, if this was its last owner, goes outside the lock.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace cordon::util
