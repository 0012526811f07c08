// gateway.dlp with tls: required verifies the DLP host's certificate: against
// tls_ca_file, under the host's name or tls_server_name. A certificate the CA
// did not sign, or one for another name, fails TLS for that host, which the
// pool treats as a temporary failure (the message stays queued).
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "queue/dlp_pool.hpp"
#include "roles/gateway/gateway_support.hpp"
#include "smtp/smtp_test_support.hpp"

namespace cordon::roles::gateway {
namespace {

using smtp::DeliveryOutcome;
namespace st = smtp::testing;

config::DlpConfig dlp(std::string host, std::uint16_t port, std::string ca, std::string name = "") {
  config::DlpConfig c;
  c.hosts = {config::HostPort{std::move(host), port}};
  c.tls = config::TlsMode::required;
  c.tls_ca_file = std::move(ca);
  c.tls_server_name = std::move(name);
  return c;
}

smtp::DeliveryResult send(const config::DlpConfig& c) {
  auto pool = dlp_pool_options(c, dlp_tls_context(c));
  const queue::DlpHost host{c.hosts[0].host, c.hosts[0].port};
  auto client = queue::dlp_client_options(pool, "gw.test", host);
  client.timeouts.connect = client.timeouts.greeting = client.timeouts.starttls =
      std::chrono::seconds(5);
  smtp::DeliveryEnvelope env;
  env.sender = "a@example.com";
  env.recipients = {{"b@example.com", {}}};
  asio::any_io_executor executor;  // deliver_to_host keeps a reference to it
  return st::run_coroutine<smtp::DeliveryResult>([&](asio::any_io_executor ex) {
    executor = ex;
    return smtp::deliver_to_host(executor, host.host, host.port, client, env,
                                 std::string_view("Subject: x\r\n\r\nbody\r\n"));
  });
}

class GatewayDlpTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(st::make_ca_signed(dir_.path(), "dlp.test"));
    ca_ = (dir_.path() / "ca.pem").string();
  }
  std::unique_ptr<st::TestServer> server(const std::string& cert, const std::string& key) {
    smtp::ServerOptions o;
    auto tls = smtp::make_server_tls_context(cert, key);
    EXPECT_TRUE(tls);
    if (tls) o.tls = *tls;
    return std::make_unique<st::TestServer>(o);
  }
  st::TempDir dir_;
  std::string ca_;
};

TEST_F(GatewayDlpTls, ACertificateOfTheCaWithTheHostsNameIsAccepted) {
  auto t = server((dir_.path() / "cert.pem").string(), (dir_.path() / "key.pem").string());
  // The certificate names 127.0.0.1 as well: the host as written is verified.
  auto r = send(dlp("127.0.0.1", t->port(), ca_));
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok) << r.detail;
  EXPECT_TRUE(r.tls);
  r = send(dlp("127.0.0.1", t->port(), ca_, "dlp.test"));
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok) << r.detail;
}

TEST_F(GatewayDlpTls, AnotherNameFailsTls) {
  auto t = server((dir_.path() / "cert.pem").string(), (dir_.path() / "key.pem").string());
  auto r = send(dlp("127.0.0.1", t->port(), ca_, "other.test"));
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed) << r.detail;
  EXPECT_NE(r.detail.find("certificate verify failed"), std::string::npos) << r.detail;
}

TEST_F(GatewayDlpTls, ACertificateNotSignedByTheCaFailsTls) {
  st::TempDir other;
  ASSERT_TRUE(st::make_self_signed(other.path()));
  auto t = server((other.path() / "cert.pem").string(), (other.path() / "key.pem").string());
  auto r = send(dlp("localhost", t->port(), ca_));
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed) << r.detail;
  // The system store does not know a self-signed certificate either.
  r = send(dlp("localhost", t->port(), ""));
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed) << r.detail;
}

TEST_F(GatewayDlpTls, AnUnloadableCaFileTrustsNothing) {
  auto t = server((dir_.path() / "cert.pem").string(), (dir_.path() / "key.pem").string());
  auto r = send(dlp("127.0.0.1", t->port(), "/nonexistent/ca.pem"));
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed) << r.detail;
}

TEST(GatewayDlpTlsOptions, OnlyRequiredTlsVerifies) {
  auto c = dlp("127.0.0.1", 1, "");
  c.tls = config::TlsMode::opportunistic;
  EXPECT_FALSE(dlp_tls_context(c));
  c.tls = config::TlsMode::required;
  EXPECT_TRUE(dlp_tls_context(c));
}

}  // namespace
}  // namespace cordon::roles::gateway
