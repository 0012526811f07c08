// Delivery results -> recipient states (queue/outcome.hpp): the one mapping
// the gateway uses for DLP's answer and for the next hop's.
#include <gtest/gtest.h>

#include "queue/outcome.hpp"

namespace cordon::queue {
namespace {

using smtp::DeliveryOutcome;
using smtp::Reply;

Envelope three_recipients() {
  Envelope e;
  e.sender = "alice@example.com";
  for (const char* a : {"a@example.net", "b@example.net", "c@example.net"})
    e.recipients.push_back({a, "", "", RecipientState::pending, ""});
  return e;
}

smtp::DeliveryResult result(DeliveryOutcome outcome, Reply reply,
                            std::vector<Reply> per_recipient = {}) {
  smtp::DeliveryResult r;
  r.outcome = outcome;
  r.reply = std::move(reply);
  for (auto& p : per_recipient) r.recipients.push_back({"", std::move(p)});
  return r;
}

const std::vector<std::size_t> kAll = {0, 1, 2};

TEST(QueueOutcome, AcceptedTransactionDecidesPerRecipient) {
  auto e = three_recipients();
  auto r = result(DeliveryOutcome::ok, Reply::make(250, "2.0.0", "Ok: queued"),
                  {Reply::make(250, "2.1.5", "Ok"), Reply::make(550, "5.1.1", "no such user"),
                   Reply::make(451, "4.7.1", "later")});
  auto out = apply_result(e, kAll, Step::delivery, r, "mx.example.net:25", "unused");
  EXPECT_EQ(out.delivered, std::vector<std::size_t>{0});
  ASSERT_EQ(out.failed.size(), 1u);
  EXPECT_EQ(out.failed[0].index, 1u);
  EXPECT_EQ(out.failed[0].status, "5.1.1");
  EXPECT_EQ(out.failed[0].remote_mta, "mx.example.net");
  EXPECT_EQ(out.pending, std::vector<std::size_t>{2});
  EXPECT_FALSE(out.headers_only);
  EXPECT_EQ(e.recipients[0].state, RecipientState::delivered);
  EXPECT_EQ(e.recipients[0].last_reply, "250 2.0.0 Ok: queued");  // the final reply
  EXPECT_EQ(e.recipients[1].state, RecipientState::failed);
  EXPECT_EQ(e.recipients[1].last_reply, "550 5.1.1 no such user");
  EXPECT_EQ(e.recipients[2].state, RecipientState::pending);
  EXPECT_EQ(e.recipients[2].last_reply, "451 4.7.1 later");
}

TEST(QueueOutcome, RecipientsWithoutTheirOwnReplyFollowTheFinalReply) {
  auto e = three_recipients();
  auto r = result(DeliveryOutcome::ok, Reply::make(250, "2.0.0", "Ok"));
  auto out = apply_result(e, kAll, Step::dlp, r, "10.0.0.1:10025", "");
  EXPECT_EQ(out.delivered, kAll);
  EXPECT_TRUE(out.failed.empty());
  EXPECT_FALSE(out.headers_only);
}

TEST(QueueOutcome, PermanentFailureFailsEveryoneWithTheirOwn5xxOrTheDecidingReply) {
  auto e = three_recipients();
  auto r = result(DeliveryOutcome::permanent,
                  Reply::make(550, "5.7.0", "blocked: it contains a card number"),
                  {Reply::make(250, "2.1.5", "Ok"), Reply::make(553, "5.1.3", "bad address")});
  auto out = apply_result(e, kAll, Step::dlp, r, "[2001:db8::1]:10025", "");
  ASSERT_EQ(out.failed.size(), 3u);
  EXPECT_EQ(out.failed[0].status, "5.7.0");
  EXPECT_EQ(out.failed[1].status, "5.1.3");
  EXPECT_EQ(out.failed[2].status, "5.7.0");
  EXPECT_EQ(out.failed[0].remote_mta, "2001:db8::1");
  EXPECT_EQ(e.recipients[0].last_reply, "550 5.7.0 blocked: it contains a card number");
  EXPECT_EQ(e.recipients[1].last_reply, "553 5.1.3 bad address");
  EXPECT_TRUE(out.headers_only);  // DLP refused the content
  for (const auto& rc : e.recipients) EXPECT_EQ(rc.state, RecipientState::failed);
}

TEST(QueueOutcome, AFailureWithoutEnhancedCodeGetsAGenericStatus) {
  auto e = three_recipients();
  auto r = result(DeliveryOutcome::permanent, Reply::make(554, "", "go away"));
  auto out = apply_result(e, std::vector<std::size_t>{1}, Step::delivery, r, "mx:25", "");
  ASSERT_EQ(out.failed.size(), 1u);
  EXPECT_EQ(out.failed[0].status, "5.0.0");
  EXPECT_FALSE(out.headers_only);  // the next hop refused, not DLP
}

TEST(QueueOutcome, TransientFailureLeavesEveryonePendingWithTheReplyOrTheDetail) {
  auto e = three_recipients();
  auto with_reply = result(DeliveryOutcome::transient, Reply::make(421, "4.3.2", "busy"));
  auto out = apply_result(e, kAll, Step::dlp, with_reply, "10.0.0.1:10025", "unused");
  EXPECT_EQ(out.pending, kAll);
  EXPECT_EQ(e.recipients[0].last_reply, "421 4.3.2 busy");

  smtp::DeliveryResult refused;
  refused.outcome = DeliveryOutcome::connect_failed;
  out = apply_result(e, kAll, Step::delivery, refused, "mx:25", "mx:25: Connection refused");
  EXPECT_EQ(out.pending, kAll);
  EXPECT_TRUE(out.failed.empty() && out.delivered.empty());
  EXPECT_EQ(e.recipients[2].last_reply, "mx:25: Connection refused");
  for (const auto& rc : e.recipients) EXPECT_EQ(rc.state, RecipientState::pending);
}

TEST(QueueOutcome, OnlyTheRecipientsSentAreTouchedAndRepliesPairInSendingOrder) {
  auto e = three_recipients();
  e.recipients[0].state = RecipientState::delivered;
  e.recipients[0].last_reply = "earlier";
  auto which = pending_recipients(e);
  ASSERT_EQ(which, (std::vector<std::size_t>{1, 2}));
  auto r = result(DeliveryOutcome::ok, Reply::make(250, "2.0.0", "Ok"),
                  {Reply::make(550, "5.1.1", "no"), Reply::make(250, "2.1.5", "Ok")});
  auto out = apply_result(e, which, Step::delivery, r, "mx:25", "");
  EXPECT_EQ(e.recipients[0].last_reply, "earlier");
  ASSERT_EQ(out.failed.size(), 1u);
  EXPECT_EQ(out.failed[0].index, 1u);
  EXPECT_EQ(out.delivered, std::vector<std::size_t>{2});
  EXPECT_TRUE(pending_recipients(e).empty());
}

TEST(QueueOutcome, DescribePutsTheReplyOnOneLineOrSaysWhatHappened) {
  auto r = result(DeliveryOutcome::transient,
                  Reply::multiline(421, "4.3.2", {"busy", "come back later"}));
  EXPECT_EQ(describe("mx:25", r), "mx:25 said: 421 4.3.2 busy / 4.3.2 come back later");
  smtp::DeliveryResult refused;
  refused.outcome = DeliveryOutcome::connect_failed;
  refused.detail = "Connection refused";
  EXPECT_EQ(describe("mx:25", refused), "mx:25: Connection refused");
}

using namespace std::chrono_literals;

RetryScheduler scheduler() {
  RetryPolicy p;
  p.schedule = {std::chrono::minutes(1)};
  p.jitter = 0;
  p.max_lifetime = std::chrono::hours(1);
  p.delay_warning_after = std::chrono::minutes(30);
  return RetryScheduler(p, 1);
}

TEST(QueueOutcome, PendingRecipientsAreRetriedOnTheScheduleAndTheMessageStays) {
  auto s = scheduler();
  auto e = three_recipients();
  auto now = std::chrono::system_clock::now();
  e.arrival = now - 1min;
  e.attempts = 1;
  e.recipients[0].state = RecipientState::delivered;
  auto plan = plan_retry(e, s, now);
  EXPECT_FALSE(plan.expired);
  EXPECT_FALSE(plan.send_delay_warning);
  EXPECT_EQ(plan.recipients, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(e.next_attempt, now + 1min);
  EXPECT_TRUE(settle(e, s, false, now));
}

TEST(QueueOutcome, TheDelayWarningIsDueOnceAfterItsTime) {
  auto s = scheduler();
  auto e = three_recipients();
  auto now = std::chrono::system_clock::now();
  e.arrival = now - 31min;
  e.attempts = 3;
  EXPECT_TRUE(plan_retry(e, s, now).send_delay_warning);
  e.flags.delay_warning_sent = true;
  EXPECT_FALSE(plan_retry(e, s, now).send_delay_warning);
}

TEST(QueueOutcome, ExpiryFailsThePendingWith447AndTheMessageGoes) {
  auto s = scheduler();
  auto e = three_recipients();
  auto now = std::chrono::system_clock::now();
  e.arrival = now - 2h;
  e.attempts = 9;
  e.recipients[1].last_reply = "451 4.7.1 not now";
  auto plan = plan_retry(e, s, now);
  EXPECT_TRUE(plan.expired);
  EXPECT_EQ(plan.recipients, kAll);
  for (const auto& r : e.recipients) {
    EXPECT_EQ(r.state, RecipientState::failed);
    EXPECT_EQ(r.status, "4.4.7");
    EXPECT_EQ(r.remote_mta, "");
  }
  EXPECT_EQ(e.recipients[0].last_reply, "message expired");
  EXPECT_EQ(e.recipients[1].last_reply, "451 4.7.1 not now");
  EXPECT_FALSE(settle(e, s, false, now));
}

TEST(QueueOutcome, AnOwedBounceKeepsTheMessageQueuedAndRetriedEvenPastItsLifetime) {
  auto s = scheduler();
  auto e = three_recipients();
  auto now = std::chrono::system_clock::now();
  e.arrival = now - 2h;  // past max_lifetime
  e.attempts = 2;
  for (auto& r : e.recipients) r.state = RecipientState::delivered;
  e.recipients[1].state = RecipientState::failed;
  e.recipients[1].dsn_owed = true;
  EXPECT_TRUE(plan_retry(e, s, now).recipients.empty());
  EXPECT_TRUE(settle(e, s, true, now));
  EXPECT_EQ(e.next_attempt, now + 1min);
  EXPECT_TRUE(e.flags.dsn_headers_only);
  e.recipients[1].dsn_owed = false;  // queued at last
  EXPECT_FALSE(settle(e, s, true, now));
  EXPECT_FALSE(e.flags.dsn_headers_only);
}

}  // namespace
}  // namespace cordon::queue
