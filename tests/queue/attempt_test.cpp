// One attempt on a queued message (queue/attempt.hpp) with scripted I/O:
// the DLP stage, delivery to Maildir or a smarthost, DSNs, retry and the
// bounce that is never lost.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include "queue/attempt.hpp"

// GCC 12 false positive on Asio's coroutine frame allocator (see
// queue/attempt.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::queue {
namespace {

using smtp::DeliveryOutcome;
using smtp::Reply;

smtp::DeliveryResult reply(DeliveryOutcome outcome, int code, const char* status) {
  smtp::DeliveryResult r;
  r.outcome = outcome;
  r.stage = smtp::Stage::data;
  r.reply = Reply::make(code, status, "text");
  return r;
}

struct Harness {
  AttemptOptions options;
  CircuitBreakers breakers;
  RetryScheduler scheduler{RetryPolicy{}, 1};
  Envelope envelope;
  std::optional<std::string> content = std::string("Subject: hi\r\n\r\nbody\r\n");
  smtp::DeliveryResult dlp_result = reply(DeliveryOutcome::ok, 250, "2.0.0");
  smtp::DeliveryResult hop_result = reply(DeliveryOutcome::ok, 250, "2.0.0");
  bool maildir_fails = false;
  bool dsn_fails = false;
  std::vector<std::string> hops;  // host:port of each SMTP transaction
  std::vector<MaildirMessage> maildir;
  std::vector<QueuedDsn> dsns;

  Harness() {
    options.hostname = "gw.example.com";
    options.maildir = "/nonexistent";
    options.dlp.hosts = {{"10.0.0.1", 10025}};
    options.max_lifetime = std::chrono::hours(24);
    envelope.sender = "alice@example.com";
    envelope.arrival = std::chrono::system_clock::now();
    envelope.recipients.push_back({"bob@example.net", "", "", RecipientState::pending, ""});
  }

  AttemptReport run() {
    AttemptIo io;
    io.smtp = [this](const DlpHost& hop, const smtp::ClientOptions&, const smtp::DeliveryEnvelope&,
                     const std::string&) -> asio::awaitable<smtp::DeliveryResult> {
      hops.push_back(hop.to_string());
      co_return hop.port == 10025 ? dlp_result : hop_result;
    };
    io.maildir = [this](const MaildirMessage& m)
        -> asio::awaitable<Result<std::filesystem::path, std::string>> {
      if (maildir_fails) co_return fail(std::string("disk full"));
      maildir.push_back(m);
      co_return std::filesystem::path("/md/new/1.q1.gw");
    };
    io.submit_dsn =
        [this](const QueuedDsn& dsn) -> asio::awaitable<Result<std::string, std::string>> {
      if (dsn_fails) co_return fail(std::string("spool full"));
      dsns.push_back(dsn);
      co_return std::string("DSN1");
    };
    asio::io_context ctx;
    auto future = asio::co_spawn(ctx,
                                 run_attempt(options, breakers, scheduler, io, "Q1", envelope,
                                             content, std::chrono::system_clock::now()),
                                 asio::use_future);
    ctx.run();
    return future.get();
  }
};

bool has_trace(const Envelope& e, std::string_view event) {
  for (const auto& t : e.trace)
    if (t.event == event) return true;
  return false;
}

TEST(QueueAttempt, UninspectedMessageGoesToDlpAndIsRemovedOncePassed) {
  Harness h;
  auto r = h.run();
  EXPECT_EQ(h.hops, std::vector<std::string>{"10.0.0.1:10025"});
  ASSERT_TRUE(r.dlp);
  EXPECT_EQ(r.dlp->outcome, DlpOutcome::passed);
  EXPECT_EQ(r.envelope.attempts, 1);
  EXPECT_EQ(r.envelope.recipients[0].state, RecipientState::delivered);
  EXPECT_TRUE(has_trace(r.envelope, trace_event::dlp_passed));
  EXPECT_FALSE(r.keep);
  EXPECT_TRUE(r.delivered_via.empty());
}

TEST(QueueAttempt, InspectedMessageIsDeliveredToTheMaildir) {
  Harness h;
  h.envelope.flags.inspected = true;
  auto r = h.run();
  EXPECT_TRUE(h.hops.empty());
  EXPECT_FALSE(r.dlp);
  ASSERT_EQ(h.maildir.size(), 1u);
  EXPECT_EQ(h.maildir[0].queue_id, "Q1");
  EXPECT_EQ(h.maildir[0].recipients, std::vector<std::string>{"bob@example.net"});
  EXPECT_EQ(r.delivered_via, "maildir");
  EXPECT_EQ(r.envelope.recipients[0].last_reply, "maildir 1.q1.gw");
  EXPECT_FALSE(r.keep);
}

TEST(QueueAttempt, MaildirFailureKeepsTheMessageForARetry) {
  Harness h;
  h.envelope.flags.inspected = true;
  h.maildir_fails = true;
  auto r = h.run();
  EXPECT_TRUE(r.keep);
  EXPECT_EQ(r.envelope.recipients[0].state, RecipientState::pending);
  EXPECT_EQ(r.envelope.recipients[0].last_reply, "451 4.3.0 maildir: disk full");
  EXPECT_TRUE(has_trace(r.envelope, trace_event::delivery_deferred));
  EXPECT_GT(r.envelope.next_attempt, r.envelope.arrival);
}

TEST(QueueAttempt, BypassedMessageIsDeliveredToTheSmarthost) {
  Harness h;
  h.envelope.flags.bypassed = true;
  h.options.smarthost = DlpHost{"192.0.2.1", 25};
  auto r = h.run();
  EXPECT_EQ(h.hops, std::vector<std::string>{"192.0.2.1:25"});
  EXPECT_EQ(r.delivered_via, "smarthost");
  EXPECT_EQ(r.envelope.recipients[0].state, RecipientState::delivered);
  EXPECT_FALSE(r.keep);
}

TEST(QueueAttempt, DlpRefusalBouncesWithAFailureDsn) {
  Harness h;
  h.dlp_result = reply(DeliveryOutcome::permanent, 550, "5.7.0");
  auto r = h.run();
  EXPECT_EQ(r.bounced, 1u);
  ASSERT_EQ(h.dsns.size(), 1u);
  EXPECT_EQ(h.dsns[0].envelope.sender, "");
  EXPECT_TRUE(has_trace(r.envelope, trace_event::dlp_bounced));
  EXPECT_TRUE(has_trace(r.envelope, trace_event::dsn));
  EXPECT_FALSE(r.envelope.recipients[0].dsn_owed);
  EXPECT_FALSE(r.keep);
}

TEST(QueueAttempt, AFailureDsnThatCannotBeQueuedStaysOwedAndKeepsTheMessage) {
  Harness h;
  h.dlp_result = reply(DeliveryOutcome::permanent, 550, "5.7.0");
  h.dsn_fails = true;
  auto r = h.run();
  EXPECT_TRUE(r.envelope.recipients[0].dsn_owed);
  EXPECT_TRUE(has_trace(r.envelope, trace_event::dsn_deferred));
  EXPECT_TRUE(r.keep);

  // The next attempt queues the owed DSN without asking DLP again.
  Harness next;
  next.envelope = r.envelope;
  auto r2 = next.run();
  EXPECT_TRUE(next.hops.empty());
  EXPECT_EQ(next.dsns.size(), 1u);
  EXPECT_FALSE(r2.envelope.recipients[0].dsn_owed);
  EXPECT_FALSE(r2.keep);
}

TEST(QueueAttempt, UnreadableContentDefersWithoutAnyDelivery) {
  Harness h;
  h.content.reset();
  auto r = h.run();
  EXPECT_TRUE(h.hops.empty());
  EXPECT_TRUE(h.maildir.empty());
  EXPECT_TRUE(has_trace(r.envelope, trace_event::delivery_deferred));
  EXPECT_TRUE(r.keep);
}

}  // namespace
}  // namespace cordon::queue
