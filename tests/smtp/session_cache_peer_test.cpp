// The client session cache against the in-process test server: reuse of a
// parked session, a parked session the server timed out (the delivery goes
// over a new one, the outcome unchanged), and the idle sweep.
#include "smtp/session_cache.hpp"

#include <gtest/gtest.h>

#include <asio/steady_timer.hpp>

#include "smtp_test_support.hpp"

// GCC 12's false -Wmismatched-new-delete on Asio's awaitable frames (see
// client_peer_test.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::smtp {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

ClientOptions fast_options() {
  ClientOptions o;
  o.helo_name = "client.example";
  for (auto* t : {&o.timeouts.connect, &o.timeouts.greeting, &o.timeouts.helo, &o.timeouts.starttls,
                  &o.timeouts.mail, &o.timeouts.rcpt, &o.timeouts.data, &o.timeouts.data_end,
                  &o.timeouts.quit})
    *t = 2s;
  return o;
}

DeliveryEnvelope envelope() {
  DeliveryEnvelope e;
  e.sender = "a@example.com";
  e.recipients.push_back(RcptTo{"b@example.com", {}});
  return e;
}

const std::string kMessage = "Subject: test\r\n\r\nhello\r\n";

// Runs `deliveries` through one cache, waiting `pause` between them;
// returns the outcomes.
std::vector<DeliveryOutcome> run(unsigned short port, SessionCacheOptions cache_options,
                                 int deliveries, std::chrono::milliseconds pause,
                                 SessionCacheCounters& counters, std::size_t& parked_after) {
  asio::io_context io;
  auto cache = SessionCache::create(io.get_executor(), cache_options);
  std::vector<DeliveryOutcome> outcomes;
  auto body = [&]() -> asio::awaitable<void> {
    const auto options = fast_options();
    const auto env = envelope();
    const std::string host = "127.0.0.1";
    for (int i = 0; i < deliveries; ++i) {
      if (i > 0) {
        asio::steady_timer timer(io, pause);
        co_await timer.async_wait(asio::use_awaitable);
      }
      auto r = co_await cache->deliver(host, port, options, env, kMessage);
      outcomes.push_back(r.outcome);
    }
    asio::steady_timer timer(io, pause);
    co_await timer.async_wait(asio::use_awaitable);
    parked_after = cache->parked();
    cache->clear();
  };
  auto done = asio::co_spawn(io, body(), asio::use_future);
  io.run_for(30s);
  EXPECT_EQ(done.wait_for(0s), std::future_status::ready);
  counters = cache->counters();
  return outcomes;
}

TEST(SessionCache, DeliveriesToOneServerShareOneSession) {
  TestServer server;
  SessionCacheCounters c;
  std::size_t parked = 0;
  auto outcomes = run(server.port(), {}, 3, 10ms, c, parked);
  EXPECT_EQ(outcomes, std::vector<DeliveryOutcome>(3, DeliveryOutcome::ok));
  EXPECT_EQ(server.store().message_count(), 3u);
  EXPECT_EQ(server.server().counters().accepted, 1u);
  EXPECT_EQ(c.opened, 1u);
  EXPECT_EQ(c.reused, 2u);
  EXPECT_EQ(parked, 1u);
}

TEST(SessionCache, ASessionTheServerTimedOutIsReplacedAndTheOutcomeUnchanged) {
  ServerOptions options;
  options.limits.idle_timeout = 100ms;  // the server says 421 and closes a parked session
  TestServer server(options);
  SessionCacheCounters c;
  std::size_t parked = 0;
  auto outcomes = run(server.port(), {}, 2, 400ms, c, parked);
  EXPECT_EQ(outcomes, std::vector<DeliveryOutcome>(2, DeliveryOutcome::ok));
  EXPECT_EQ(server.store().message_count(), 2u);
  EXPECT_EQ(c.stale, 1u);
  EXPECT_EQ(c.opened, 2u);
  EXPECT_EQ(c.reused, 0u);
}

TEST(SessionCache, AnIdleSessionIsClosedAfterTheIdleTime) {
  TestServer server;
  SessionCacheOptions cache;
  cache.idle = 100ms;
  SessionCacheCounters c;
  std::size_t parked = 0;
  auto outcomes = run(server.port(), cache, 2, 400ms, c, parked);
  EXPECT_EQ(outcomes, std::vector<DeliveryOutcome>(2, DeliveryOutcome::ok));
  EXPECT_EQ(parked, 0u);  // swept by the timer, not only at the next take
  EXPECT_EQ(c.opened, 2u);
  EXPECT_EQ(c.stale, 0u);
}

TEST(SessionCache, ASessionIsRetiredAfterMaxUses) {
  TestServer server;
  SessionCacheOptions cache;
  cache.max_uses = 2;
  SessionCacheCounters c;
  std::size_t parked = 0;
  auto outcomes = run(server.port(), cache, 4, 10ms, c, parked);
  EXPECT_EQ(outcomes, std::vector<DeliveryOutcome>(4, DeliveryOutcome::ok));
  EXPECT_EQ(c.opened, 2u);
  EXPECT_EQ(c.reused, 2u);
  EXPECT_EQ(server.server().counters().accepted, 2u);
}

}  // namespace
}  // namespace cordon::smtp
