// The gateway's extension keys (local_domains, min_free, delay_warning,
// concurrency, hostname): defaults, values as written, and refused values.
#include <gtest/gtest.h>

#include "config/config.hpp"

using namespace cordon::config;
using namespace cordon::policy;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const Config> parse(const std::string& yaml) {
  auto r = parse_config_text(yaml, "gw.yaml");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

TEST(GatewayConfig, ExtensionKeysHaveSafeDefaults) {
  auto c = parse("gateway: {}\n");
  ASSERT_TRUE(c && c->gateway);
  EXPECT_TRUE(c->gateway->local_domains.empty());
  EXPECT_EQ(c->gateway->min_free, 64u << 20);
  EXPECT_EQ(c->gateway->delay_warning, 4h);
  EXPECT_EQ(c->gateway->concurrency, 20u);
  EXPECT_EQ(c->gateway->hostname, "");
}

TEST(GatewayConfig, ExtensionKeysAreReadAsWritten) {
  auto c = parse(
      "gateway:\n"
      "  local_domains: [Example.COM, mail.example.org]\n"
      "  min_free: 10MB\n"
      "  delay_warning: 0s\n"
      "  concurrency: 5\n"
      "  hostname: gw.example.com\n");
  ASSERT_TRUE(c && c->gateway);
  EXPECT_EQ(c->gateway->local_domains,
            (std::vector<std::string>{"example.com", "mail.example.org"}));
  EXPECT_EQ(c->gateway->min_free, 10u * 1024 * 1024);
  EXPECT_EQ(c->gateway->delay_warning, 0s);
  EXPECT_EQ(c->gateway->concurrency, 5u);
  EXPECT_EQ(c->gateway->hostname, "gw.example.com");
}

TEST(GatewayConfig, AddressInsteadOfDomainIsRefusedWithPosition) {
  auto r = parse_config_text("gateway:\n  local_domains: [bob@example.com]\n", "gw.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().line, 2);
  EXPECT_NE(r.error().message.find("not a domain name"), std::string::npos);
}

TEST(GatewayConfig, ZeroConcurrencyIsRefused) {
  auto r = parse_config_text("gateway:\n  concurrency: 0\n", "gw.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().line, 2);
}

TEST(GatewayConfig, DlpTlsVerificationKeys) {
  auto d = parse("gateway: {}\n");
  ASSERT_TRUE(d && d->gateway);
  EXPECT_EQ(d->gateway->dlp.tls_ca_file, "");
  EXPECT_EQ(d->gateway->dlp.tls_server_name, "");
  auto c = parse(
      "gateway:\n"
      "  dlp:\n"
      "    tls: required\n"
      "    tls_ca_file: /etc/cordon/dlp-ca.pem\n"
      "    tls_server_name: dlp.example.com\n");
  ASSERT_TRUE(c && c->gateway);
  EXPECT_EQ(c->gateway->dlp.tls, TlsMode::required);
  EXPECT_EQ(c->gateway->dlp.tls_ca_file, "/etc/cordon/dlp-ca.pem");
  EXPECT_EQ(c->gateway->dlp.tls_server_name, "dlp.example.com");
}

}  // namespace

namespace {

ConfigError refused(const std::string& yaml) {
  auto r = parse_config_text(yaml, "gw.yaml");
  EXPECT_FALSE(r.has_value()) << yaml;
  return r ? ConfigError{} : r.error();
}

}  // namespace

TEST(GatewayConfig, ZeroDlpTimeoutsAreRefusedWithPositionAndConsequence) {
  auto session = refused("gateway:\n  dlp:\n    session_timeout: 0s\n");
  EXPECT_EQ(session.line, 3);
  EXPECT_EQ(session.col, 22);
  EXPECT_EQ(session.message,
            "gateway.dlp.session_timeout must be from 1s to 1h, got '0s' (every DLP session "
            "would time out, so every message would bypass DLP (or, with bypass: false, stay "
            "queued))");
  auto connect = refused("gateway:\n  dlp: {connect_timeout: 0s}\n");
  EXPECT_EQ(connect.line, 2);
  EXPECT_EQ(connect.col, 26);
  EXPECT_NE(connect.message.find("gateway.dlp.connect_timeout must be from 100ms to 10m, got '0s'"),
            std::string::npos)
      << connect.message;
  // Absurd the other way: a DLP session of a day holds a message that long.
  auto huge = refused("gateway:\n  dlp:\n    session_timeout: 1d\n");
  EXPECT_NE(huge.message.find("must be from 1s to 1h, got '1d'"), std::string::npos)
      << huge.message;
}

TEST(GatewayConfig, ZeroRetryDelaysAndLifetimeAreRefused) {
  auto entry = refused("gateway:\n  retry:\n    schedule: [1m, 0s]\n");
  EXPECT_EQ(entry.line, 3);
  EXPECT_EQ(entry.col, 20);
  EXPECT_NE(entry.message.find("gateway.retry.schedule item must be from 1s to 30d, got '0s'"),
            std::string::npos)
      << entry.message;
  auto lifetime = refused("gateway:\n  retry: {max_lifetime: 0s}\n");
  EXPECT_EQ(lifetime.line, 2);
  EXPECT_NE(lifetime.message.find("gateway.retry.max_lifetime must be from 1s to 90d"),
            std::string::npos)
      << lifetime.message;
}

TEST(GatewayConfig, ZeroSmtpAndExtractionTimeoutsAreRefused) {
  for (const char* key : {"command_timeout", "idle_timeout"}) {
    auto e = refused(std::string("smtp:\n  ") + key + ": 0s\n");
    EXPECT_EQ(e.line, 2) << key;
    EXPECT_NE(e.message.find(std::string("smtp.") + key + " must be from 1s to 1h, got '0s'"),
              std::string::npos)
        << e.message;
  }
  auto extract = refused("attachments:\n  max_time: 0s\n");
  EXPECT_NE(extract.message.find("attachments.max_time must be from 100ms to 10m"),
            std::string::npos)
      << extract.message;
}

TEST(GatewayConfig, TimeoutsInsideTheirRangesAreAccepted) {
  auto c = parse(
      "gateway:\n"
      "  dlp: {connect_timeout: 100ms, session_timeout: 1h}\n"
      "  retry: {schedule: [1s, 30d], max_lifetime: 1s}\n"
      "smtp: {command_timeout: 1s, idle_timeout: 1h}\n");
  ASSERT_TRUE(c && c->gateway);
  EXPECT_EQ(c->gateway->dlp.connect_timeout, 100ms);
  EXPECT_EQ(c->gateway->dlp.session_timeout, 1h);
  EXPECT_EQ(c->gateway->retry.schedule.back(), 24h * 30);
  EXPECT_EQ(c->smtp.idle_timeout, 1h);
}

TEST(ConfigValues, DurationsPrintInTheirLargestExactUnit) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(100ms), "100ms");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(90min), "90m");
  EXPECT_EQ(format_duration(48h), "2d");
}
