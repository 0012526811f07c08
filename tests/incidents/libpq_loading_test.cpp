// libpq is loaded the first time the store calls it, not at start-up (a
// process that never uses PostgreSQL does not load it and the libraries it
// brings), and works once loaded.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "incidents/detail/pg_handle.hpp"

namespace {

bool mapped(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find(library) != std::string::npos;
}

TEST(LibpqLoading, LoadedTheFirstTimeItIsCalled) {
  EXPECT_FALSE(mapped("libpq.so"));
  EXPECT_EQ(cordon::incidents::pg::check_url("postgresql://cordon@db.example/incidents"),
            std::nullopt);
  EXPECT_TRUE(mapped("libpq.so"));
  auto bad = cordon::incidents::pg::check_url("host=db.example port");
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->find("port"), std::string::npos) << *bad;
}

}  // namespace
