// Peer tests of the inline relay: an upstream client talks to a relay
// handler whose next hop is an in-process memory server; the decision at
// end of data relays, redirects or answers, and an unreachable next hop is
// 451 4.4.1 upstream.
#include <gtest/gtest.h>

#include <atomic>

#include "smtp/client.hpp"
#include "smtp/relay.hpp"
#include "smtp_test_support.hpp"

namespace cordon::smtp {
namespace {

using testing::TestServer;

struct Seen {
  std::vector<int> codes;
  std::string last_enhanced;
};

// EHLO, MAIL, two RCPT, DATA, QUIT through the relay; the codes of each.
asio::awaitable<Seen> converse(asio::any_io_executor ex, unsigned short port) {
  Seen seen;
  ClientOptions options;
  options.helo_name = "client.example";
  ClientSession client(ex, options);
  auto greeting = co_await client.connect(testing::local(port));
  if (!greeting) co_return seen;
  auto hello = co_await client.hello();
  if (!hello) co_return seen;
  auto mail = co_await client.mail("a@example.com");
  if (!mail) co_return seen;
  seen.codes.push_back(mail->code);
  if (mail->positive()) {
    for (const char* r : {"b@example.com", "c@example.com"}) {
      auto rcpt = co_await client.rcpt(r);
      if (!rcpt) co_return seen;
      seen.codes.push_back(rcpt->code);
    }
    auto data = co_await client.data("Subject: x\r\n\r\nbody\r\n");
    if (!data) co_return seen;
    seen.codes.push_back(data->code);
    seen.last_enhanced = data->enhanced;
  } else {
    seen.last_enhanced = mail->enhanced;
  }
  (void)co_await client.quit();
  co_return seen;
}

struct Counts {
  std::atomic<int> decisions{0};
  std::atomic<int> errors{0};
  std::atomic<int> deferred{0};
  std::atomic<int> answered{0};
};

asio::awaitable<RelayDecision> decide_with(RelayDecision decision, Counts* counts,
                                           std::shared_ptr<const std::string> message) {
  ++counts->decisions;
  if (decision.kind != RelayDecision::Kind::answer && !decision.content)
    decision.content = std::move(message);
  decision.on_answer = [counts](const Reply&) { ++counts->answered; };
  co_return decision;
}

// The relay's handlers run on the relay server's own io_context, which
// `where` names once the server exists (before any client connects).
HandlerFactory relay_to(unsigned short port, RelayDecision decision, Counts& counts,
                        TestServer* const& where) {
  return [port, decision, &counts, &where] {
    RelayOptions options;
    options.host = "127.0.0.1";
    options.port = port;
    options.helo_name = "relay.example";
    options.timeouts.connect = std::chrono::seconds(2);
    RelayHooks hooks;
    hooks.decide = [decision, &counts](const SessionInfo&,
                                       std::shared_ptr<const std::string> message) {
      return decide_with(decision, &counts, std::move(message));
    };
    hooks.downstream_error = [&counts] { ++counts.errors; };
    hooks.deferred = [&counts] { ++counts.deferred; };
    return make_relay_handler(where->executor(), std::move(options), std::move(hooks));
  };
}

Seen run(unsigned short port) {
  return testing::run_coroutine<Seen>(
      [port](asio::any_io_executor ex) { return converse(ex, port); });
}

TEST(RelayPeer, RelayDecisionDeliversTheMessageToTheNextHopWithItsRecipients) {
  TestServer next_hop;
  Counts counts;
  TestServer* self = nullptr;
  TestServer relay({}, relay_to(next_hop.port(), RelayDecision::relay(nullptr), counts, self));
  self = &relay;
  auto seen = run(relay.port());
  EXPECT_EQ(seen.codes, (std::vector<int>{250, 250, 250, 250}));
  auto messages = next_hop.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].sender, "a@example.com");
  EXPECT_EQ(messages[0].recipients, (std::vector<std::string>{"b@example.com", "c@example.com"}));
  EXPECT_EQ(messages[0].content, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(counts.decisions, 1);
  EXPECT_EQ(counts.answered, 1);
  EXPECT_EQ(counts.errors, 0);
}

TEST(RelayPeer, RewrittenContentIsWhatTheNextHopReceives) {
  TestServer next_hop;
  Counts counts;
  TestServer* self = nullptr;
  auto rewritten = std::make_shared<const std::string>("Subject: y\r\n\r\nother\r\n");
  TestServer relay({}, relay_to(next_hop.port(), RelayDecision::relay(rewritten), counts, self));
  self = &relay;
  auto seen = run(relay.port());
  EXPECT_EQ(seen.codes.back(), 250);
  auto messages = next_hop.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].content, *rewritten);
}

TEST(RelayPeer, AnswerDecisionIsSentUpstreamAndNothingReachesTheNextHop) {
  TestServer next_hop;
  Counts counts;
  TestServer* self = nullptr;
  TestServer relay(
      {}, relay_to(next_hop.port(), RelayDecision::answer(Reply::make(550, "5.7.0", "blocked")),
                   counts, self));
  self = &relay;
  auto seen = run(relay.port());
  EXPECT_EQ(seen.codes, (std::vector<int>{250, 250, 250, 550}));
  EXPECT_EQ(seen.last_enhanced, "5.7.0");
  EXPECT_EQ(next_hop.store().message_count(), 0u);
  EXPECT_EQ(counts.answered, 1);
}

TEST(RelayPeer, RedirectDecisionSendsTheMessageToTheRedirectAddressAlone) {
  TestServer next_hop;
  Counts counts;
  TestServer* self = nullptr;
  TestServer relay(
      {}, relay_to(next_hop.port(), RelayDecision::redirect(nullptr, "quarantine@example.com"),
                   counts, self));
  self = &relay;
  auto seen = run(relay.port());
  EXPECT_EQ(seen.codes.back(), 250);
  auto messages = next_hop.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].sender, "a@example.com");
  EXPECT_EQ(messages[0].recipients, std::vector<std::string>{"quarantine@example.com"});
}

TEST(RelayPeer, UnreachableNextHopIsTransientUpstreamAndNoDecisionIsAsked) {
  Counts counts;
  TestServer* self = nullptr;
  TestServer relay({}, relay_to(testing::free_port(), RelayDecision::relay(nullptr), counts, self));
  self = &relay;
  auto seen = run(relay.port());
  EXPECT_EQ(seen.codes, std::vector<int>{451});
  EXPECT_EQ(seen.last_enhanced, "4.4.1");
  EXPECT_EQ(counts.decisions, 0);
  EXPECT_GE(counts.errors, 1);
}

}  // namespace
}  // namespace cordon::smtp
