// Result<T, E>: values and errors travel across component boundaries intact.
#include <gtest/gtest.h>

#include <string>

#include "util/result.hpp"

namespace {

enum class Err { bad };

cordon::Result<int, Err> half(int x) {
  if (x % 2) return cordon::fail(Err::bad);
  return x / 2;
}

}  // namespace

TEST(Result, CarriesAValue) {
  auto r = half(8);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4);
}

TEST(Result, CarriesAnError) {
  auto r = half(3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Err::bad);
}

TEST(Result, MovesOutOwnedValues) {
  cordon::Result<std::string, Err> r = std::string("hello");
  std::string s = std::move(r).value();
  EXPECT_EQ(s, "hello");
}
