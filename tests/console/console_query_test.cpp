// Query-parameter parsing, time parsing, the status workflow and the
// message counters read from Prometheus text.
#include <gtest/gtest.h>

#include "console/query.hpp"

namespace cordon::console {
namespace {

namespace inc = cordon::incidents;
using namespace std::chrono;

Params params(std::initializer_list<std::pair<const std::string, std::string>> list) {
  return Params(list);
}

TEST(ConsoleQuery, EveryFilterReachesTheQuery) {
  auto r = parse_list_request(params({{"from", "2026-01-02"},
                                      {"until", "2026-01-03T04:05:06Z"},
                                      {"policy", "PCI"},
                                      {"severity", "high"},
                                      {"status", "in_progress"},
                                      {"sender", "a@b.c"},
                                      {"recipient", "d@e"},
                                      {"action", "block"},
                                      {"q", "invoice"},
                                      {"page", "3"},
                                      {"limit", "20"},
                                      {"sort", "severity"},
                                      {"order", "asc"}}));
  ASSERT_TRUE(r) << r.error();
  const auto& q = r->query;
  EXPECT_EQ(*q.from, inc::Clock::time_point(sys_days(2026y / 1 / 2)));
  EXPECT_EQ(*q.until, inc::Clock::time_point(sys_days(2026y / 1 / 3)) + 4h + 5min + 6s);
  EXPECT_EQ(*q.policy, "PCI");
  EXPECT_EQ(*q.severity, inc::Severity::high);
  EXPECT_EQ(*q.status, inc::IncidentStatus::in_progress);
  EXPECT_EQ(*q.sender, "a@b.c");
  EXPECT_EQ(*q.recipient, "d@e");
  EXPECT_EQ(*q.action, inc::Action::block);
  EXPECT_EQ(*q.text, "invoice");
  EXPECT_EQ(q.limit, 20u);
  EXPECT_EQ(q.offset, 40u);
  EXPECT_EQ(q.sort, inc::SortKey::severity);
  EXPECT_FALSE(q.descending);
}

TEST(ConsoleQuery, DefaultsAreNewestFirstFiftyPerPage) {
  auto r = parse_list_request({});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->query.limit, kDefaultPageSize);
  EXPECT_EQ(r->query.offset, 0u);
  EXPECT_TRUE(r->query.descending);
  EXPECT_FALSE(r->query.severity);
}

TEST(ConsoleQuery, BlankValuesMeanNoFilter) {
  auto r = parse_list_request(params({{"severity", ""}, {"policy", ""}}));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->query.severity);
  EXPECT_FALSE(r->query.policy);
}

TEST(ConsoleQuery, BadValuesNameTheParameter) {
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{{"severity", "urgent"},
                                                                             {"page", "0"},
                                                                             {"page", "x"},
                                                                             {"limit", "501"},
                                                                             {"sort", "subject"},
                                                                             {"order", "up"},
                                                                             {"from", "2026-13-01"},
                                                                             {"until", "soon"},
                                                                             {"status", "open"},
                                                                             {"action", "drop"},
                                                                             {"colour", "red"}}) {
    auto r = parse_list_request(params({{name, value}}));
    ASSERT_FALSE(r) << name << "=" << value;
    EXPECT_NE(r.error().find(name), std::string::npos) << r.error();
  }
  EXPECT_FALSE(parse_list_request(params({{"q", "a"}, {"q", "b"}})));
}

TEST(ConsoleQuery, TimesWithOffsetsAndFractionsAreUtc) {
  auto base = inc::Clock::time_point(sys_days(2026y / 11 / 22)) + 20h + 23min + 10s;
  EXPECT_EQ(parse_time("2026-11-22T20:23:10Z"), base);
  EXPECT_EQ(parse_time("2026-11-22T20:23:10.250Z"), base);
  EXPECT_EQ(parse_time("2026-11-22T22:23:10+02:00"), base);
  EXPECT_EQ(parse_time("2026-11-22T15:23:10-05:00"), base);
  for (auto bad : {"2026-11-22T20:23:10", "2026-02-30", "2026-11-22T24:00:00Z", "22/11/2026", ""})
    EXPECT_FALSE(parse_time(bad)) << bad;
}

TEST(ConsoleQuery, StatusWorkflow) {
  using S = inc::IncidentStatus;
  EXPECT_TRUE(transition_allowed(S::new_, S::in_progress));
  EXPECT_TRUE(transition_allowed(S::new_, S::false_positive));
  EXPECT_TRUE(transition_allowed(S::in_progress, S::resolved));
  EXPECT_TRUE(transition_allowed(S::resolved, S::in_progress));
  EXPECT_TRUE(transition_allowed(S::resolved, S::resolved));
  EXPECT_FALSE(transition_allowed(S::in_progress, S::new_));
  EXPECT_FALSE(transition_allowed(S::resolved, S::false_positive));
  EXPECT_FALSE(transition_allowed(S::false_positive, S::new_));
}

TEST(ConsoleQuery, MessageCountersSumLabelledSamples) {
  const std::string text =
      "# HELP cordon_prevent_messages_total Messages handled by prevent\n"
      "# TYPE cordon_prevent_messages_total counter\n"
      "cordon_prevent_messages_total{result=\"inspected\"} 14\n"
      "cordon_prevent_messages_total{result=\"ignored\"} 3\n"
      "cordon_prevent_messages_total{result=\"already_inspected\"} 1\n"
      "cordon_prevent_messages_total{result=\"blocked\"} 4\n"
      "cordon_prevent_messages_total{result=\"passed\"} 10\n"
      "cordon_prevent_messages_total_other 99\n"
      "cordon_dlp_bypass_total{reason=\"unreachable\"} 2\n"
      "cordon_dlp_bypass_total{reason=\"timeout\"} 1\n";
  auto counters = message_counters(text);
  EXPECT_EQ(counters["received"], 18);  // no gateway: what prevent saw
  EXPECT_EQ(counters["inspected"], 14);
  EXPECT_EQ(counters["ignored"], 3);
  EXPECT_EQ(counters["blocked"], 4);
  EXPECT_EQ(counters["passed"], 10);
  EXPECT_EQ(counters["bypassed"], 3);
  EXPECT_FALSE(sum_samples(text, "cordon_missing_total"));
  EXPECT_EQ(sum_samples(text, "cordon_prevent_messages_total", "result=\"blocked\""), 4);

  auto with_gateway = message_counters(text +
                                       "cordon_gateway_received_total{listener=\"client\"} 20\n"
                                       "cordon_gateway_received_total{listener=\"resubmit\"} 10\n");
  EXPECT_EQ(with_gateway["received"], 20);
}

TEST(ConsoleQuery, FamilySamplesAndLabelValuesForTheServerView) {
  const std::string text =
      "cordon_dlp_breaker_state{host=\"10.0.0.5:25\",state=\"closed\"} 0\n"
      "cordon_dlp_breaker_state{host=\"10.0.0.5:25\",state=\"open\"} 1\n"
      "cordon_dlp_breaker_state_other{host=\"x\"} 5\n"
      "cordon_dlp_bypass_total{reason=\"unreachable\"} 2\n";
  auto samples = family_samples(text, "cordon_dlp_breaker_state");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1].value, 1);
  EXPECT_EQ(label_value(samples[1].labels, "host"), "10.0.0.5:25");
  EXPECT_EQ(label_value(samples[1].labels, "state"), "open");
  EXPECT_EQ(label_value(samples[1].labels, "missing"), "");
  // A label whose name ends another one's is not mistaken for it.
  EXPECT_EQ(label_value("xhost=\"a\",host=\"b\"", "host"), "b");
}

}  // namespace
}  // namespace cordon::console
