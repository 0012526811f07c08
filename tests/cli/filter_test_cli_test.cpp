// `cordon filter-test` end to end: seed cases of docs/configuration.md through the binary,
// the explanation lines, and exit 2 with a column for a bad filter.
#include <gtest/gtest.h>

#include <string>

#include "support/process.hpp"

using cordon::testing::cordon_bin;
using cordon::testing::run_command;

namespace {

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

cordon::testing::CommandResult filter_test(const std::string& args) {
  return run_command(cordon_bin() + " filter-test " + args + " 2>&1");
}

}  // namespace

TEST(FilterTestCli, RecipientSeedCases) {
  const std::string f = "--recipient-filter '+bob@test1.com, -*test1.com, -*test2.com'";
  auto r = filter_test(f + " --from x@y.com --to bob@test1.com --to amy@test1.com");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(first_line(r.output), "inspect");
  r = filter_test(f + " --from x@y.com --to amy@test1.com --to joe@test2.com");
  EXPECT_EQ(first_line(r.output), "ignore");
  r = filter_test(f + " --from x@y.com --to amy@test1.com --to joe@test2.com --to sue@test3.com");
  EXPECT_EQ(first_line(r.output), "inspect");
  r = filter_test(
      "--recipient-filter '+bob@test1.com, -*test1.com, -*test2.com, *' --from x@y.com"
      " --to amy@test1.com --to joe@test2.com --to sue@test3.com");
  EXPECT_EQ(first_line(r.output), "ignore");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(FilterTestCli, SenderSeedCases) {
  const std::string f = "--sender-filter '-bob@test1.com, +*test1.com' --to r@x.com";
  EXPECT_EQ(first_line(filter_test(f + " --from bob@test1.com").output), "ignore");
  EXPECT_EQ(first_line(filter_test(f + " --from amy@test1.com").output), "inspect");
  EXPECT_EQ(first_line(filter_test(f + " --from sue@other.com").output), "inspect");
}

TEST(FilterTestCli, SenderAndRecipientMustAgree) {
  const std::string f = "--sender-filter '+*@xyz.com, *' --recipient-filter '-*@xyz.com'";
  EXPECT_EQ(first_line(filter_test(f + " --from a@xyz.com --to b@xyz.com").output), "ignore");
  EXPECT_EQ(first_line(filter_test(f + " --from a@xyz.com --to c@abc.com").output), "inspect");
}

TEST(FilterTestCli, ExplainsWhichMaskDecided) {
  auto r = filter_test(
      "--sender-filter '+bob@test1.com, -*test1.com' --recipient-filter '-*@test2.com, *'"
      " --from amy@test1.com --to joe@test2.com --to sue@test3.com");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("sender amy@test1.com: ignore (mask 2 \"-*test1.com\")"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("recipient joe@test2.com: ignore (mask 1 \"-*@test2.com\")"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("recipient sue@test3.com: ignore (no mask matched; final *, mask 2)"),
            std::string::npos)
      << r.output;
}

TEST(FilterTestCli, EmptyFiltersInspectAndNullSenderIsShown) {
  auto r = filter_test("--from '<>' --to a@b.com");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(first_line(r.output), "inspect");
  EXPECT_NE(r.output.find("sender <>: inspect (empty filter)"), std::string::npos) << r.output;
}

TEST(FilterTestCli, BadFilterExitsTwoWithItsColumn) {
  auto r = filter_test("--sender-filter 'a@b.com,, c@d.com' --from a@b.com --to c@d.com");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad sender filter"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("column 9"), std::string::npos) << r.output;
  r = filter_test("--recipient-filter '*, -a@b.com' --from a@b.com --to c@d.com");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad recipient filter: mask 1 at column 1"), std::string::npos)
      << r.output;
}
