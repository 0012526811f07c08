// Unit tests of structured log fields: every value kind as JSON members,
// escaped so that any text keeps one JSON object per line.
#include <gtest/gtest.h>

#include "util/log_event.hpp"

namespace cordon::util {
namespace {

TEST(LogFields, RendersEveryValueKindAsJsonMembersInOrder) {
  LogFields f;
  f.add("queue_id", "1K1P").add("rcpt_count", std::size_t{2}).add("ok", true);
  f.add("policies", std::vector<std::string>{"Cards", "Neptune"}).add_null("incident");
  EXPECT_EQ(f.json(),
            R"(,"queue_id":"1K1P","rcpt_count":2,"ok":true,"policies":["Cards","Neptune"],)"
            R"("incident":null)");
}

TEST(LogFields, EscapesQuotesBackslashesAndControlCharacters) {
  LogFields f;
  f.add("sender", "a\"b\\c\r\nd");
  EXPECT_EQ(f.json(), R"(,"sender":"a\"b\\c\u000d\u000ad")");
}

TEST(LogFields, AnEmptyListIsAnEmptyArray) {
  LogFields f;
  f.add("policies", std::vector<std::string>{});
  EXPECT_EQ(f.json(), R"(,"policies":[])");
}

}  // namespace
}  // namespace cordon::util
