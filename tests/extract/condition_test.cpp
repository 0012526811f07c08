// Attachment conditions of policies: glob matching on types and names,
// size and encryption, all parts required together.
#include <gtest/gtest.h>

#include "extract/extract.hpp"

using cordon::extract::FileCondition;
using cordon::extract::FileFacts;
using cordon::extract::glob_match;

namespace {

TEST(ExtractCondition, GlobsMatchWholeTextCaseInsensitively) {
  EXPECT_TRUE(glob_match("application/vnd.openxmlformats-officedocument.*",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
  EXPECT_TRUE(glob_match("*.XLSX", "q3/Customers.xlsx"));
  EXPECT_TRUE(glob_match("report-??.pdf", "report-01.pdf"));
  EXPECT_FALSE(glob_match("report-??.pdf", "report-1.pdf"));
  EXPECT_FALSE(glob_match("application/zip", "application/zip2"));
  EXPECT_TRUE(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(glob_match("*a*b*c*d", std::string(10000, 'a') + "bc"));
  EXPECT_TRUE(glob_match("*", ""));
}

TEST(ExtractCondition, EveryGivenPartMustHold) {
  FileFacts xlsx{"attachment:a.zip/big.xlsx", "big.xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 20u << 20,
                 false};
  FileCondition c;
  c.names = {"*.xlsx", "*.csv"};
  c.min_size = 10u << 20;
  EXPECT_TRUE(c.matches(xlsx));
  xlsx.size = 1u << 20;
  EXPECT_FALSE(c.matches(xlsx));
  FileCondition encrypted;
  encrypted.encrypted_only = true;
  EXPECT_FALSE(encrypted.matches(xlsx));
  xlsx.encrypted = true;
  EXPECT_TRUE(encrypted.matches(xlsx));
  FileCondition exe;
  exe.types = {"application/x-dosexec"};
  EXPECT_FALSE(exe.matches(xlsx));
}

TEST(ExtractCondition, DescriptionNamesEachPart) {
  FileCondition c;
  c.types = {"application/zip"};
  c.encrypted_only = true;
  EXPECT_EQ(c.describe(), "attachment:type=application/zip,encrypted");
}

}  // namespace
