// Peer tests of the inline relay: an upstream client talks to a relay
// handler whose next hop is an in-process memory server; the decision at
// end of data relays, redirects or answers, and an unreachable next hop is
// 451 4.4.1 upstream. With a session cache, next hop sessions outlive
// the upstream ones; one the next hop closed meanwhile is replaced.
#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "smtp/client.hpp"
#include "smtp/relay.hpp"
#include "smtp/session_cache.hpp"
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
                        TestServer* const& where,
                        const std::shared_ptr<SessionCache>* sessions = nullptr) {
  return [port, decision, &counts, &where, sessions] {
    RelayOptions options;
    options.host = "127.0.0.1";
    options.port = port;
    options.helo_name = "relay.example";
    options.timeouts.connect = std::chrono::seconds(2);
    if (sessions) options.sessions = *sessions;
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

// A relay whose handlers share a session cache on the relay's own
// io_context; the cache is emptied and released there before the relay
// stops, so no parked socket outlives its io_context.
struct CachedRelay {
  CachedRelay(unsigned short next_hop_port, Counts& counts, SessionCacheOptions options = {})
      : relay({}, relay_to(next_hop_port, RelayDecision::relay(nullptr), counts, self, &cache)) {
    self = &relay;
    cache = SessionCache::create(relay.executor(), options);
  }
  ~CachedRelay() {
    std::promise<void> done;
    asio::post(relay.executor(), [this, &done] {
      cache->clear();
      cache.reset();
      done.set_value();
    });
    done.get_future().wait();
  }
  // Upstream sessions one after another, a pause between them (the
  // previous handler parks its next hop session after answering QUIT).
  std::vector<Seen> sessions(int count, std::chrono::milliseconds pause) {
    std::vector<Seen> out;
    for (int i = 0; i < count; ++i) {
      if (i > 0) std::this_thread::sleep_for(pause);
      out.push_back(run(relay.port()));
    }
    std::this_thread::sleep_for(pause);
    return out;
  }
  SessionCacheCounters counters() {
    std::promise<SessionCacheCounters> got;
    asio::post(relay.executor(), [this, &got] { got.set_value(cache->counters()); });
    return got.get_future().get();
  }

  TestServer* self = nullptr;
  std::shared_ptr<SessionCache> cache;
  TestServer relay;
};

const std::vector<int> kDelivered{250, 250, 250, 250};

TEST(RelayPeer, UpstreamSessionsOneAfterAnotherShareOneNextHopSession) {
  TestServer next_hop;
  Counts counts;
  CachedRelay relay(next_hop.port(), counts);
  auto seen = relay.sessions(3, std::chrono::milliseconds(100));
  for (const auto& s : seen) EXPECT_EQ(s.codes, kDelivered);
  EXPECT_EQ(next_hop.store().message_count(), 3u);
  EXPECT_EQ(next_hop.server().counters().accepted, 1u);  // one TCP session for three messages
  const auto c = relay.counters();
  EXPECT_EQ(c.opened, 1u);
  EXPECT_EQ(c.reused, 2u);
  EXPECT_EQ(counts.errors, 0);
}

TEST(RelayPeer, ANextHopSessionIsRetiredAfterMaxUses) {
  TestServer next_hop;
  Counts counts;
  SessionCacheOptions options;
  options.max_uses = 2;
  CachedRelay relay(next_hop.port(), counts, options);
  auto seen = relay.sessions(5, std::chrono::milliseconds(100));
  for (const auto& s : seen) EXPECT_EQ(s.codes, kDelivered);
  EXPECT_EQ(next_hop.store().message_count(), 5u);
  EXPECT_EQ(next_hop.server().counters().accepted, 3u);  // 2 + 2 + 1 messages
  const auto c = relay.counters();
  EXPECT_EQ(c.opened, 3u);
  EXPECT_EQ(c.reused, 2u);
}

TEST(RelayPeer, AParkedSessionTheNextHopClosedIsReplacedAndEveryMessageDeliveredOnce) {
  ServerOptions options;
  options.limits.idle_timeout = std::chrono::milliseconds(100);  // 421 and close while parked
  TestServer next_hop(options);
  Counts counts;
  CachedRelay relay(next_hop.port(), counts);
  auto seen = relay.sessions(3, std::chrono::milliseconds(400));
  for (const auto& s : seen) EXPECT_EQ(s.codes, kDelivered);
  EXPECT_EQ(next_hop.store().message_count(), 3u);
  EXPECT_EQ(next_hop.server().counters().accepted, 3u);
  const auto c = relay.counters();
  EXPECT_EQ(c.stale, 2u);
  EXPECT_EQ(c.opened, 3u);
  EXPECT_EQ(counts.errors, 0);  // a stale parked session is no next hop failure
}

// MAIL and RCPT, then QUIT without DATA: the next hop session is left
// inside a transaction.
asio::awaitable<int> abandon(asio::any_io_executor ex, unsigned short port) {
  ClientOptions options;
  options.helo_name = "client.example";
  ClientSession client(ex, options);
  auto greeting = co_await client.connect(testing::local(port));
  if (!greeting) co_return 0;
  auto hello = co_await client.hello();
  if (!hello) co_return 0;
  auto mail = co_await client.mail("early@example.com");
  if (!mail) co_return 0;
  auto rcpt = co_await client.rcpt("dropped@example.com");
  if (!rcpt) co_return 0;
  (void)co_await client.quit();
  co_return rcpt->code;
}

TEST(RelayPeer, ATransactionLeftOpenUpstreamIsResetBeforeItsSessionIsReused) {
  TestServer next_hop;
  Counts counts;
  CachedRelay relay(next_hop.port(), counts);
  const auto port = relay.relay.port();
  EXPECT_EQ(
      testing::run_coroutine<int>([port](asio::any_io_executor ex) { return abandon(ex, port); }),
      250);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto seen = relay.sessions(1, std::chrono::milliseconds(100));
  EXPECT_EQ(seen[0].codes, kDelivered);  // no 503 for a MAIL inside the abandoned transaction
  auto messages = next_hop.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].sender, "a@example.com");
  EXPECT_EQ(messages[0].recipients, (std::vector<std::string>{"b@example.com", "c@example.com"}));
  EXPECT_EQ(next_hop.server().counters().accepted, 1u);
}

// The memory server's handler, except that DATA is refused (554) while
// `refuse` is set: the next hop's transaction stays open after it.
class RefusingData : public Handler {
 public:
  RefusingData(std::unique_ptr<Handler> inner, std::atomic<bool>& refuse)
      : inner_(std::move(inner)), refuse_(refuse) {}
  asio::awaitable<Reply> on_mail(const SessionInfo& s, const MailFrom& m) override {
    co_return co_await inner_->on_mail(s, m);
  }
  asio::awaitable<Reply> on_rcpt(const SessionInfo& s, const RcptTo& r) override {
    co_return co_await inner_->on_rcpt(s, r);
  }
  asio::awaitable<DataStart> on_data_begin(const SessionInfo& s) override {
    if (refuse_) co_return DataStart{Reply::make(554, "5.5.1", "no DATA today"), nullptr};
    co_return co_await inner_->on_data_begin(s);
  }
  asio::awaitable<Reply> on_data_end(const SessionInfo& s, std::uint64_t size) override {
    co_return co_await inner_->on_data_end(s, size);
  }
  asio::awaitable<void> on_rset(const SessionInfo& s) override { co_await inner_->on_rset(s); }

 private:
  std::unique_ptr<Handler> inner_;
  std::atomic<bool>& refuse_;
};

TEST(RelayPeer, ATransactionTheNextHopKeptAfterRefusingDataIsResetBeforeReuse) {
  auto store = std::make_shared<MemoryStore>();
  std::atomic<bool> refuse{true};
  auto inner = memory_handler_factory(store);
  TestServer next_hop({},
                      [inner, &refuse] { return std::make_unique<RefusingData>(inner(), refuse); });
  Counts counts;
  CachedRelay relay(next_hop.port(), counts);
  auto refused = relay.sessions(1, std::chrono::milliseconds(100));
  EXPECT_EQ(refused[0].codes, (std::vector<int>{250, 250, 250, 554}));
  refuse = false;
  auto seen = relay.sessions(1, std::chrono::milliseconds(100));
  EXPECT_EQ(seen[0].codes, kDelivered);  // not 503 for a MAIL nested in the refused one
  EXPECT_EQ(store->message_count(), 1u);
  EXPECT_EQ(next_hop.server().counters().accepted, 1u);
}

}  // namespace
}  // namespace cordon::smtp
