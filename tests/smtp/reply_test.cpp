// Unit tests of SMTP reply construction, wire form and parsing.
#include <gtest/gtest.h>

#include "smtp/reply.hpp"

namespace cordon::smtp {
namespace {

TEST(Reply, FormatsOneAndManyLines) {
  EXPECT_EQ(Reply::make(250, "2.0.0", "OK").wire(), "250 2.0.0 OK\r\n");
  EXPECT_EQ(Reply::make(220, "", "host ESMTP").wire(), "220 host ESMTP\r\n");
  EXPECT_EQ(Reply::multiline(550, "5.7.0", {"a", "b"}).wire(), "550-5.7.0 a\r\n550 5.7.0 b\r\n");
}

TEST(Reply, ParsesMultiLineAndKeepsFullText) {
  std::string wire = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n";
  std::size_t used = 0;
  auto r = parse_reply(wire, &used);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 250);
  EXPECT_EQ(used, wire.size());
  ASSERT_EQ(r->lines.size(), 3u);
  EXPECT_EQ(r->lines[2], "SIZE 1000");
  EXPECT_EQ(r->enhanced, "");
  EXPECT_EQ(r->wire(), wire);
}

TEST(Reply, PreformattedBlockRoundTripsVerbatim) {
  std::string wire =
      "550-5.7.0 Policy A violated\r\n550-5.7.0 Policy B violated\r\n550 5.7.0 Incident 42\r\n";
  auto r = parse_reply(wire);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->enhanced, "5.7.0");
  EXPECT_TRUE(r->permanent());
  EXPECT_EQ(r->wire(), wire);
  EXPECT_EQ(r->text(), "Policy A violated\nPolicy B violated\nIncident 42");
}

TEST(Reply, ParsesPipelinedRepliesOneAfterAnother) {
  std::string wire = "250 2.1.0 OK\r\n451 4.3.0 later\r\n";
  std::size_t used = 0;
  auto first = parse_reply(wire, &used);
  ASSERT_TRUE(first);
  auto second = parse_reply(std::string_view(wire).substr(used));
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->transient());
  EXPECT_EQ(second->enhanced, "4.3.0");
}

TEST(Reply, AcceptsBareCodeLine) {
  auto r = parse_reply("250\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 250);
}

TEST(Reply, ReportsIncompleteAndMalformedReplies) {
  EXPECT_EQ(parse_reply("250-a\r\n250 b").error().code, ReplyErrorCode::incomplete);
  EXPECT_EQ(parse_reply("").error().code, ReplyErrorCode::incomplete);
  EXPECT_EQ(parse_reply("25x ok\r\n").error().code, ReplyErrorCode::bad_code);
  EXPECT_EQ(parse_reply("650 ok\r\n").error().code, ReplyErrorCode::bad_code);
  EXPECT_EQ(parse_reply("250_ok\r\n").error().code, ReplyErrorCode::bad_separator);
  EXPECT_EQ(parse_reply("250 ok\n").error().code, ReplyErrorCode::bad_separator);
  auto mixed = parse_reply("250-a\r\n251 b\r\n");
  EXPECT_EQ(mixed.error().code, ReplyErrorCode::mixed_codes);
  EXPECT_EQ(mixed.error().line, 1u);
  EXPECT_EQ(parse_reply("250 " + std::string(600, 'x') + "\r\n", nullptr, 512).error().code,
            ReplyErrorCode::too_long);
}

TEST(Reply, EnhancedCodeMustMatchReplyClass) {
  EXPECT_EQ(parse_reply("250 5.1.1 odd\r\n")->enhanced, "");
  EXPECT_EQ(parse_reply("250 2.1.5 ok\r\n")->enhanced, "2.1.5");
}

}  // namespace
}  // namespace cordon::smtp
