// Metrics: counting is exact and the Prometheus rendering is well-formed.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "util/metrics.hpp"

using cordon::util::Metrics;

TEST(Metrics, CountersAreExactUnderConcurrency) {
  Metrics m;
  auto& c = m.counter("cordon_messages_received_total", "Messages received");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(&m.counter("cordon_messages_received_total", "Messages received"), &c);
}

TEST(Metrics, RendersPrometheusTextWithLabelsAndHistograms) {
  Metrics m;
  m.counter("cordon_dlp_bypass_total", "Bypasses", "reason=\"unreachable\"").inc(3);
  m.gauge("cordon_queue_messages", "Queued", "state=\"deferred\"").set(7);
  auto& h = m.histogram("cordon_scan_seconds", "Scan time", {0.001, 0.01, 0.1});
  h.observe(0.0005);
  h.observe(0.05);
  h.observe(5);
  auto text = m.render_prometheus();
  EXPECT_NE(text.find("# TYPE cordon_dlp_bypass_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("cordon_dlp_bypass_total{reason=\"unreachable\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("cordon_queue_messages{state=\"deferred\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("cordon_scan_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cordon_scan_seconds_bucket{le=\"0.1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("cordon_scan_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("cordon_scan_seconds_count 3\n"), std::string::npos);
}

TEST(Metrics, OneNameCannotBeTwoKinds) {
  Metrics m;
  m.counter("x_total", "x");
  EXPECT_THROW(m.gauge("x_total", "x"), std::logic_error);
}
