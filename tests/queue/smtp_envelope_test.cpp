// The queue's envelope in SMTP's terms and back (queue/smtp_envelope.hpp):
// xtext, ESMTP parameters, ORCPT, the delivery envelope and domain_of.
#include <gtest/gtest.h>

#include "queue/smtp_envelope.hpp"

namespace cordon::queue {
namespace {

TEST(QueueSmtpEnvelope, XtextRoundTripsAndLeavesMalformedEscapesAlone) {
  EXPECT_EQ(xtext_decode("QQ+2B314+3Dpi"), "QQ+314=pi");
  EXPECT_EQ(xtext_encode("QQ+314=pi x"), "QQ+2B314+3Dpi+20x");
  EXPECT_EQ(xtext_decode(xtext_encode("caf\xc3\xa9 +=")), "caf\xc3\xa9 +=");
  EXPECT_EQ(xtext_decode("a+zz+4"), "a+zz+4");
  EXPECT_EQ(xtext_decode("+2b"), "+");  // lower-case hex is accepted
}

TEST(QueueSmtpEnvelope, MailParamsAndRecipientsRoundTrip) {
  smtp::MailParams in;
  in.size = 4096;
  in.body = smtp::Body::eight_bit_mime;
  in.ret = smtp::DsnRet::hdrs;
  in.envid = "ID+2B1";
  in.smtputf8 = true;
  auto q = to_queue_params(in);
  EXPECT_EQ(q.size, 4096u);
  EXPECT_EQ(q.body, "8BITMIME");
  EXPECT_EQ(q.ret, "HDRS");
  EXPECT_EQ(q.envid, "ID+1");
  auto back = to_smtp_params(q);
  EXPECT_EQ(back.body, smtp::Body::eight_bit_mime);
  EXPECT_EQ(back.ret, smtp::DsnRet::hdrs);
  EXPECT_EQ(back.envid, "ID+2B1");
  EXPECT_TRUE(back.smtputf8);

  smtp::RcptTo rcpt;
  rcpt.recipient = "bob@example.net";
  rcpt.params.notify = "FAILURE,DELAY";
  rcpt.params.orcpt = "rfc822;bob+2Bx@example.net";
  auto r = to_queue_recipient(rcpt);
  EXPECT_EQ(r.orcpt, "rfc822;bob+x@example.net");
  EXPECT_EQ(r.notify, "FAILURE,DELAY");
  EXPECT_EQ(to_smtp_recipient(r).params.orcpt, "rfc822;bob+2Bx@example.net");
}

TEST(QueueSmtpEnvelope, DeliveryEnvelopeCarriesOnlyTheChosenRecipients) {
  Envelope e;
  e.sender = "alice@example.com";
  e.params.ret = "FULL";
  for (const char* a : {"a@x.test", "b@x.test", "c@x.test"})
    e.recipients.push_back({a, "", "", RecipientState::pending, ""});
  auto d = delivery_envelope(e, std::vector<std::size_t>{0, 2});
  EXPECT_EQ(d.sender, "alice@example.com");
  EXPECT_EQ(d.params.ret, smtp::DsnRet::full);
  ASSERT_EQ(d.recipients.size(), 2u);
  EXPECT_EQ(d.recipients[1].recipient, "c@x.test");
}

TEST(QueueSmtpEnvelope, DomainOfIsLowerCaseAndEmptyWithoutAnAt) {
  EXPECT_EQ(domain_of("Bob@Example.NET"), "example.net");
  EXPECT_EQ(domain_of("a@b@Example.org"), "example.org");
  EXPECT_EQ(domain_of("postmaster"), "");
}

}  // namespace
}  // namespace cordon::queue
