// The DLP pool's decision (roles/gateway_dlp.hpp) with scripted per-host
// outcomes: failover order, the exact bypass conditions, fail closed, and
// circuit breakers that never cause a bypass without a connection attempt.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <map>

#include "roles/gateway/gateway_dlp.hpp"

// GCC 12 false positive on Asio's coroutine frame allocator (see gateway_attempt.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::roles::gateway {
namespace {

using smtp::DeliveryOutcome;

smtp::DeliveryResult outcome(DeliveryOutcome o, int code = 0,
                             smtp::Stage stage = smtp::Stage::connect) {
  smtp::DeliveryResult r;
  r.outcome = o;
  r.stage = stage;
  if (code)
    r.reply = smtp::Reply::make(code,
                                code >= 500   ? "5.7.0"
                                : code >= 400 ? "4.7.1"
                                              : "2.0.0",
                                "text");
  if (o == DeliveryOutcome::connect_failed) r.detail = "Connection refused";
  return r;
}

struct Pool {
  config::DlpConfig config;
  queue::CircuitBreakers breakers{queue::BreakerPolicy{1, std::chrono::hours(1)}};
  std::map<std::string, smtp::DeliveryResult> script;  // host:port -> what it does
  std::vector<std::string> tried;

  explicit Pool(std::vector<std::string> hosts) {
    for (auto& h : hosts) config.hosts.push_back(*config::parse_host_port(h));
  }

  DlpVerdict run() {
    asio::io_context io;
    DlpAttempt attempt =
        [this](const config::HostPort& hp) -> asio::awaitable<smtp::DeliveryResult> {
      tried.push_back(hp.to_string());
      co_return script.at(hp.to_string());
    };
    auto future = asio::co_spawn(io, run_dlp_pool(config, breakers, attempt), asio::use_future);
    io.run();
    return future.get();
  }
};

TEST(GatewayDlpPool, FirstHostThatAnswersDecides) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::ok, 250, smtp::Stage::data_end);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::passed);
  EXPECT_EQ(p.tried, std::vector<std::string>{"10.0.0.1:25"});
}

TEST(GatewayDlpPool, RefusedConnectionFailsOverAndA4xxDefersWithoutTryingFurther) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25", "10.0.0.3:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::connect_failed);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::transient, 451, smtp::Stage::rcpt);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::deferred);
  EXPECT_EQ(v.host, "10.0.0.2:25");
  EXPECT_EQ(p.tried.size(), 2u);
}

TEST(GatewayDlpPool, FiveHundredAnywhereBounces) {
  Pool p({"10.0.0.1:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::permanent, 550, smtp::Stage::data_end);
  EXPECT_EQ(p.run().outcome, DlpOutcome::bounced);
}

TEST(GatewayDlpPool, NoHostAcceptingTcpBypasses) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::connect_failed);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::connect_failed);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::bypass);
  EXPECT_EQ(v.bypass_reason, "unreachable");
}

TEST(GatewayDlpPool, TimeoutWithEveryOtherHostRefusingBypasses) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::connect_failed);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::timed_out, 0, smtp::Stage::greeting);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::bypass);
  EXPECT_EQ(v.bypass_reason, "session_timeout");
}

TEST(GatewayDlpPool, TimeoutThenAnotherHostIsUsed) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::timed_out, 0, smtp::Stage::data_end);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::ok, 250, smtp::Stage::data_end);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::passed);
  EXPECT_EQ(v.host, "10.0.0.2:25");
}

TEST(GatewayDlpPool, TwoHostsAcceptingTcpAndTimingOutDoNotBypass) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::timed_out, 0, smtp::Stage::greeting);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::timed_out, 0, smtp::Stage::greeting);
  EXPECT_EQ(p.run().outcome, DlpOutcome::deferred);
}

TEST(GatewayDlpPool, TlsNotNegotiatedStaysQueuedEvenIfOthersAreDown) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::tls_failed, 0, smtp::Stage::starttls);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::connect_failed);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::deferred);
  EXPECT_NE(v.detail.find("TLS"), std::string::npos);
}

TEST(GatewayDlpPool, BypassOffFailsClosed) {
  Pool p({"10.0.0.1:25"});
  p.config.bypass = false;
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::connect_failed);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::fail_closed);
  EXPECT_EQ(v.bypass_reason, "unreachable");
}

TEST(GatewayDlpPool, OpenBreakerSkipsAHostWhileAnotherGivesVerdicts) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::connect_failed);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::ok, 250, smtp::Stage::data_end);
  p.run();  // opens 10.0.0.1's breaker (threshold 1)
  p.tried.clear();
  EXPECT_EQ(p.run().outcome, DlpOutcome::passed);
  EXPECT_EQ(p.tried, std::vector<std::string>{"10.0.0.2:25"});
}

TEST(GatewayDlpPool, OpenBreakersAreProbedBeforeAnyBypass) {
  Pool p({"10.0.0.1:25", "10.0.0.2:25"});
  p.script["10.0.0.1:25"] = outcome(DeliveryOutcome::connect_failed);
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::connect_failed);
  EXPECT_EQ(p.run().outcome, DlpOutcome::bypass);  // both breakers now open
  p.tried.clear();
  p.script["10.0.0.2:25"] = outcome(DeliveryOutcome::ok, 250, smtp::Stage::data_end);
  auto v = p.run();
  EXPECT_EQ(v.outcome, DlpOutcome::passed);  // the skipped host was tried, not bypassed
  EXPECT_EQ(p.tried, (std::vector<std::string>{"10.0.0.1:25", "10.0.0.2:25"}));
}

}  // namespace
}  // namespace cordon::roles::gateway
