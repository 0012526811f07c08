// The command-line contract: every subcommand has --help, usage errors exit 2.
#include <gtest/gtest.h>

#include "support/process.hpp"

using cordon::testing::cordon_bin;
using cordon::testing::run_command;

TEST(Cli, TopLevelHelpListsEverySubcommand) {
  auto r = run_command(cordon_bin() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"run", "scan", "check-config", "filter-test", "incidents", "queue"})
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"run", "scan", "check-config", "filter-test", "incidents", "queue",
                          "queue list", "queue delete"}) {
    auto r = run_command(cordon_bin() + " " + sub + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_command(cordon_bin() + " 2>&1").exit_code, 2);
  EXPECT_EQ(run_command(cordon_bin() + " no-such-command 2>&1").exit_code, 2);
  EXPECT_EQ(run_command(cordon_bin() + " scan --format xml x.eml 2>&1").exit_code, 2);
}
