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

smtp::SessionInfo session() {
  smtp::SessionInfo s;
  s.helo_name = "client.test";
  s.esmtp = true;
  smtp::MailFrom mail;
  mail.sender = "alice@example.com";
  mail.params.envid = "E+2B1";
  s.mail = mail;
  smtp::RcptTo rcpt;
  rcpt.recipient = "bob@example.net";
  s.recipients.push_back(rcpt);
  return s;
}

TEST(QueueSmtpEnvelope, ReceivedEnvelopeIsDueNowAndTracesWhereItCameFrom) {
  auto now = std::chrono::system_clock::now();
  auto e = received_envelope(session(), "192.0.2.7", Arrival::client, now);
  EXPECT_EQ(e.sender, "alice@example.com");
  EXPECT_EQ(e.params.envid, "E+1");
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_EQ(e.client.address, "192.0.2.7");
  EXPECT_EQ(e.client.helo, "client.test");
  EXPECT_EQ(e.arrival, now);
  EXPECT_EQ(e.next_attempt, now);
  EXPECT_FALSE(e.flags.inspected);
  ASSERT_EQ(e.trace.size(), 1u);
  EXPECT_EQ(e.trace[0].detail, "from client.test [192.0.2.7]");

  auto back = received_envelope(session(), "127.0.0.1", Arrival::resubmitted, now);
  EXPECT_TRUE(back.flags.inspected);
  EXPECT_TRUE(back.flags.dlp_resubmitted);
  EXPECT_EQ(back.trace[0].detail, "resubmitted by DLP host 127.0.0.1");
}

TEST(QueueSmtpEnvelope, ReceivedHeaderNamesClientProtocolAndQueueId) {
  auto s = session();
  s.tls = true;
  auto header = received_header(s, "192.0.2.7", "gw.test", "1K0WGRTWD910VJKH",
                                std::chrono::system_clock::now());
  EXPECT_EQ(header.rfind("Received: from client.test ([192.0.2.7])\r\n\tby gw.test (cordon) "
                         "with ESMTPS id 1K0WGRTWD910VJKH;\r\n\t",
                         0),
            0u);
  EXPECT_EQ(header.substr(header.size() - 2), "\r\n");
}

TEST(QueueSmtpEnvelope, OnlyABypassedUninspectedMessageGetsTheDlpNotice) {
  Envelope e;
  EXPECT_TRUE(delivery_headers(e).empty());
  e.flags.bypassed = true;
  e.add_trace({}, "dlp-bypass", "session_timeout: 10.0.0.1:10025: session timed out");
  EXPECT_EQ(delivery_headers(e),
            std::vector<std::string>{"X-Cordon-DLP: bypassed, not inspected (session_timeout)"});
  e.flags.inspected = true;  // resubmitted by DLP after all
  EXPECT_TRUE(delivery_headers(e).empty());
}

}  // namespace
}  // namespace cordon::queue
