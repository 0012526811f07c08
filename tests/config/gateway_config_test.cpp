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
