// Result<T, E>: a value or an error, returned across component boundaries
// instead of exceptions (a small stand-in for C++23 std::expected, which
// this toolchain's library does not ship yet).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace cordon {

template <class E>
struct Unexpected {
  E error;
};

// Wraps an error so that it converts into any Result<T, E>.
template <class E>
Unexpected<std::decay_t<E>> fail(E&& e) {
  return {std::forward<E>(e)};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  Result(Unexpected<G> u) : v_(std::in_place_index<1>, E(std::move(u.error))) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  const E& error() const { assert(!has_value()); return std::get<1>(v_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> v_;
};

// Result without a value: success or an error.
struct Ok {};

template <class E>
using Status = Result<Ok, E>;

}  // namespace cordon
