// DSNs parsed back with GMime: multipart/report structure, the
// delivery-status fields, the returned original, and line discipline.
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "queue/dsn.hpp"
#include "queue/time_format.hpp"

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;

struct GObjectUnref {
  void operator()(gpointer p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GMimeRuntime {
  GMimeRuntime() { g_mime_init(); }
};

GPtr<GMimeMessage> parse(const std::string& text) {
  static GMimeRuntime runtime;
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return GPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

std::string mime_type(GMimeObject* object) {
  char* t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(object));
  std::string out(t);
  g_free(t);
  return out;
}

// Decoded content of a leaf part.
std::string content_of(GMimeObject* object) {
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  if (GMIME_IS_PART(object)) {
    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(object)), mem.get());
  } else {
    g_mime_object_write_content_to_stream(object, nullptr, mem.get());
  }
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// message/delivery-status: blocks of unfolded "Name: value" fields.
std::vector<std::map<std::string, std::string>> status_blocks(const std::string& text) {
  std::vector<std::map<std::string, std::string>> blocks(1);
  std::string last;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find("\r\n", pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
    } else if (line[0] == ' ' || line[0] == '\t') {
      blocks.back()[last] += line;  // unfolding keeps the white space
    } else {
      auto colon = line.find(':');
      last = line.substr(0, colon);
      blocks.back()[last] = line.substr(colon + 2);
    }
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

const TimePoint kArrival = *parse_rfc3339("2026-11-22T10:00:00Z");
const TimePoint kNow = *parse_rfc3339("2026-11-22T10:05:00Z");
const std::string kOriginal =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: quarterly numbers\r\n"
    "Message-ID: <orig-1@example.com>\r\n"
    "\r\n"
    "Card 4111 1111 1111 1111 attached.\r\n";
const std::string kBlockReply =
    "550-5.7.0 Message blocked by policy PCI card numbers (incident 1842)\r\n"
    "550 5.7.0 This message contains payment card data and was not sent.";

DsnRequest failure_request() {
  DsnRequest r;
  r.reporting_mta = "gw.example.com";
  r.original_sender = "alice@example.com";
  r.envid = "QQ314159";
  r.queue_id = "0SD1X4K2ZQ7H3M8P";
  r.arrival = kArrival;
  r.now = kNow;
  r.original = kOriginal;
  DsnRecipient rcpt;
  rcpt.final_recipient = "bob@example.net";
  rcpt.original_recipient = "rfc822;bob@example.net";
  rcpt.action = DsnAction::failed;
  rcpt.status = "5.7.0";
  rcpt.remote_mta = "127.0.0.1";
  rcpt.diagnostic = kBlockReply;
  rcpt.last_attempt = kNow;
  r.recipients.push_back(rcpt);
  return r;
}

void expect_line_discipline(const std::string& message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    ASSERT_NE(eol, std::string::npos) << "message does not end in CRLF";
    ASSERT_GT(eol, pos) << "bare LF at " << eol;
    ASSERT_EQ(message[eol - 1], '\r') << "bare LF at " << eol;
    std::string_view line(message.data() + pos, eol - 1 - pos);
    EXPECT_LE(line.size(), 998u);
    EXPECT_EQ(line.find('\r'), std::string_view::npos) << "bare CR in: " << line;
    pos = eol + 1;
  }
}

TEST(Dsn, FailureReportHasTheThreeRfc3464Parts) {
  auto dsn = build_dsn(failure_request());
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(dsn->envelope_sender, "");
  EXPECT_EQ(dsn->recipient, "alice@example.com");
  auto message = parse(dsn->content);
  ASSERT_TRUE(message);
  EXPECT_STREQ(g_mime_object_get_header(GMIME_OBJECT(message.get()), "Auto-Submitted"),
               "auto-replied");
  EXPECT_STREQ(g_mime_message_get_subject(message.get()), "Undelivered Mail Returned to Sender");
  GMimeObject* top = g_mime_message_get_mime_part(message.get());
  EXPECT_EQ(mime_type(top), "multipart/report");
  EXPECT_STREQ(g_mime_object_get_content_type_parameter(top, "report-type"), "delivery-status");
  ASSERT_TRUE(GMIME_IS_MULTIPART(top));
  GMimeMultipart* multipart = GMIME_MULTIPART(top);
  ASSERT_EQ(g_mime_multipart_get_count(multipart), 3);

  GMimeObject* text = g_mime_multipart_get_part(multipart, 0);
  EXPECT_EQ(mime_type(text), "text/plain");
  std::string human = content_of(text);
  EXPECT_NE(human.find("550-5.7.0 Message blocked by policy PCI card numbers (incident 1842)\r\n"),
            std::string::npos);
  EXPECT_NE(human.find("550 5.7.0 This message contains payment card data and was not sent.\r\n"),
            std::string::npos);
  EXPECT_NE(human.find("<bob@example.net>"), std::string::npos);

  GMimeObject* status = g_mime_multipart_get_part(multipart, 1);
  EXPECT_EQ(mime_type(status), "message/delivery-status");
  auto blocks = status_blocks(content_of(status));
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0]["Reporting-MTA"], "dns; gw.example.com");
  EXPECT_EQ(blocks[0]["Original-Envelope-Id"], "QQ314159");
  EXPECT_EQ(blocks[0]["Arrival-Date"], "Sun, 22 Nov 2026 10:00:00 +0000");
  EXPECT_EQ(blocks[1]["Original-Recipient"], "rfc822; bob@example.net");
  EXPECT_EQ(blocks[1]["Final-Recipient"], "rfc822; bob@example.net");
  EXPECT_EQ(blocks[1]["Action"], "failed");
  EXPECT_EQ(blocks[1]["Status"], "5.7.0");
  EXPECT_EQ(blocks[1]["Remote-MTA"], "dns; [127.0.0.1]");
  EXPECT_EQ(blocks[1]["Diagnostic-Code"],
            "smtp; 550-5.7.0 Message blocked by policy PCI card numbers (incident 1842) 550 5.7.0 "
            "This message contains payment card data and was not sent.");
  EXPECT_EQ(blocks[1]["Last-Attempt-Date"], "Sun, 22 Nov 2026 10:05:00 +0000");
  EXPECT_EQ(blocks[1].count("Will-Retry-Until"), 0u);

  GMimeObject* original = g_mime_multipart_get_part(multipart, 2);
  EXPECT_EQ(mime_type(original), "text/rfc822-headers");
  std::string headers = content_of(original);
  EXPECT_NE(headers.find("Subject: quarterly numbers\r\n"), std::string::npos);
  EXPECT_EQ(headers.find("4111"), std::string::npos) << "RET=HDRS must not return the body";
}

TEST(Dsn, OutputIsCrlfSevenBitWithShortLinesForAsciiInput) {
  auto r = failure_request();
  std::string long_reply;
  for (int i = 0; i < 8; ++i)
    long_reply +=
        "550-5.7.0 " + std::string(400, static_cast<char>('a' + i)) + " word word word\r\n";
  long_reply += "550 5.7.0 end";
  r.recipients[0].diagnostic = long_reply;
  auto dsn = build_dsn(r);
  ASSERT_TRUE(dsn.has_value());
  expect_line_discipline(dsn->content);
  for (char c : dsn->content) ASSERT_LT(static_cast<unsigned char>(c), 0x80);
  EXPECT_NE(dsn->content.find("Content-Transfer-Encoding: 7bit\r\n"), std::string::npos);
  auto message = parse(dsn->content);
  GMimeMultipart* multipart = GMIME_MULTIPART(g_mime_message_get_mime_part(message.get()));
  auto blocks = status_blocks(content_of(g_mime_multipart_get_part(multipart, 1)));
  // Folded over several lines, unfolded it is the whole reply on one line.
  EXPECT_EQ(blocks[1]["Diagnostic-Code"].size(),
            std::string("smtp; ").size() + long_reply.size() - 8);
  EXPECT_NE(blocks[1]["Diagnostic-Code"].find("550 5.7.0 end"), std::string::npos);
}

// The headers are the payload: a card number in the Subject and base64
// in an X- header, under a Date and Message-ID that only name the message.
const std::string kHeadersArePayload =
    "Received: from client.test by gw.test; Sun, 22 Nov 2026 10:00:00 +0000\r\n"
    "From: Mallory <mallory@outside.test>\r\n"
    "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
    "To: bob@example.net\r\n"
    "Subject: 4111 1111 1111 1111\r\n"
    "X-Data: QUtJQUlPU0ZPRE5ON0VYQU1QTEU=\r\n"
    "Message-ID:\r\n <payload-1@outside.test>\r\n"
    "Date: second date\r\n"
    "\r\n"
    "4111 1111 1111 1111\r\n";

GMimeMultipart* report_of(const std::string& content, GPtr<GMimeMessage>& holder) {
  holder = parse(content);
  if (!holder) return nullptr;
  GMimeObject* top = g_mime_message_get_mime_part(holder.get());
  return GMIME_IS_MULTIPART(top) ? GMIME_MULTIPART(top) : nullptr;
}

TEST(Dsn, NothingOfTheOriginalWhenDlpRefusedItAndTheSenderIsNotLocal) {
  auto r = failure_request();
  r.original = kHeadersArePayload;
  r.ret = DsnReturn::nothing;
  auto dsn = build_dsn(r);
  ASSERT_TRUE(dsn.has_value());
  expect_line_discipline(dsn->content);
  EXPECT_EQ(dsn->content.find("4111"), std::string::npos);
  EXPECT_EQ(dsn->content.find("QUtJQUlPU0ZPRE5ON0VYQU1QTEU"), std::string::npos);
  EXPECT_EQ(dsn->content.find("payload-1"), std::string::npos);
  EXPECT_EQ(dsn->content.find("rfc822-headers"), std::string::npos);
  GPtr<GMimeMessage> message;
  GMimeMultipart* report = report_of(dsn->content, message);
  ASSERT_NE(report, nullptr);
  ASSERT_EQ(g_mime_multipart_get_count(report), 2);  // RFC 6522: the third part is optional
  EXPECT_EQ(mime_type(g_mime_multipart_get_part(report, 1)), "message/delivery-status");
  EXPECT_NE(content_of(g_mime_multipart_get_part(report, 0)).find("Your message is not attached"),
            std::string::npos);
}

TEST(Dsn, OnlyDateAndMessageIdWhenDlpRefusedItAndTheSenderIsLocal) {
  auto r = failure_request();
  r.original = kHeadersArePayload;
  r.ret = DsnReturn::identifying_headers;
  auto dsn = build_dsn(r);
  ASSERT_TRUE(dsn.has_value());
  expect_line_discipline(dsn->content);
  EXPECT_EQ(dsn->content.find("4111"), std::string::npos);
  EXPECT_EQ(dsn->content.find("QUtJQUlPU0ZPRE5ON0VYQU1QTEU"), std::string::npos);
  GPtr<GMimeMessage> message;
  GMimeMultipart* report = report_of(dsn->content, message);
  ASSERT_NE(report, nullptr);
  ASSERT_EQ(g_mime_multipart_get_count(report), 3);
  GMimeObject* original = g_mime_multipart_get_part(report, 2);
  EXPECT_EQ(mime_type(original), "text/rfc822-headers");
  EXPECT_EQ(content_of(original),
            "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID:\r\n <payload-1@outside.test>\r\n");
  EXPECT_NE(content_of(g_mime_multipart_get_part(report, 0))
                .find("Only the Date and Message-ID of your message are attached"),
            std::string::npos);
}

TEST(DsnRequest, LocalSendersAreThoseOfTheLocalDomains) {
  const std::vector<std::string> local = {"example.com", "corp.test"};
  EXPECT_TRUE(sender_is_local("alice@example.com", local));
  EXPECT_TRUE(sender_is_local("Alice@Corp.Test", local));
  EXPECT_TRUE(sender_is_local("\"a@b\"@example.com", local));
  EXPECT_FALSE(sender_is_local("alice@sub.example.com", local));
  EXPECT_FALSE(sender_is_local("alice@example.com.evil.test", local));
  EXPECT_FALSE(sender_is_local("alice@outside.test", local));
  EXPECT_FALSE(sender_is_local("postmaster", local));
  EXPECT_FALSE(sender_is_local("alice@example.com", {}));
}

TEST(Dsn, NoDsnForANullSender) {
  auto r = failure_request();
  r.original_sender = "";
  auto dsn = build_dsn(r);
  ASSERT_FALSE(dsn.has_value());
  EXPECT_EQ(dsn.error(), DsnError::null_sender);
}

TEST(Dsn, NoDsnWithoutRecipients) {
  auto r = failure_request();
  r.recipients.clear();
  EXPECT_EQ(build_dsn(r).error(), DsnError::no_recipients);
}

TEST(Dsn, RetFullReturnsTheWholeOriginalDeclaredEightBit) {
  auto r = failure_request();
  r.ret = DsnReturn::full;
  std::string original =
      "From: alice@example.com\nTo: bob@example.net\nSubject: Gr\xC3\xBC\xC3\x9F"
      "e\n"
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
      "K\xC3\xA4se und Br\xC3\xB6tchen\n";
  r.original = original;
  auto dsn = build_dsn(r);
  ASSERT_TRUE(dsn.has_value());
  expect_line_discipline(dsn->content);
  EXPECT_NE(dsn->content.find("\r\nContent-Transfer-Encoding: 8bit\r\n\r\nThis is a MIME"),
            std::string::npos);
  auto message = parse(dsn->content);
  GMimeMultipart* multipart = GMIME_MULTIPART(g_mime_message_get_mime_part(message.get()));
  GMimeObject* returned = g_mime_multipart_get_part(multipart, 2);
  EXPECT_EQ(mime_type(returned), "message/rfc822");
  EXPECT_STREQ(g_mime_object_get_header(returned, "Content-Transfer-Encoding"), "8bit");
  ASSERT_TRUE(GMIME_IS_MESSAGE_PART(returned));
  GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(returned));
  ASSERT_NE(inner, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(inner),
               "Gr\xC3\xBC\xC3\x9F"
               "e");
  std::string body = content_of(g_mime_message_get_mime_part(inner));
  EXPECT_EQ(body, "K\xC3\xA4se und Br\xC3\xB6tchen\r\n");
}

TEST(Dsn, DelayReportSaysDelayedAndUntilWhen) {
  auto r = failure_request();
  r.recipients[0].action = DsnAction::delayed;
  r.recipients[0].status = "4.4.1";
  r.recipients[0].diagnostic = "451 4.4.1 DLP host not answering";
  r.recipients[0].will_retry_until = kArrival + 24h;
  auto dsn = build_dsn(r);
  ASSERT_TRUE(dsn.has_value());
  auto message = parse(dsn->content);
  EXPECT_STREQ(g_mime_message_get_subject(message.get()), "Delayed Mail (still being retried)");
  GMimeMultipart* multipart = GMIME_MULTIPART(g_mime_message_get_mime_part(message.get()));
  auto blocks = status_blocks(content_of(g_mime_multipart_get_part(multipart, 1)));
  EXPECT_EQ(blocks[1]["Action"], "delayed");
  EXPECT_EQ(blocks[1]["Status"], "4.4.1");
  EXPECT_EQ(blocks[1]["Will-Retry-Until"], "Mon, 23 Nov 2026 10:00:00 +0000");
  EXPECT_NE(content_of(g_mime_multipart_get_part(multipart, 0)).find("keep trying"),
            std::string::npos);
}

TEST(Dsn, NonAsciiReplyIsQuotedPrintableTextAndSanitisedInTheReport) {
  auto r = failure_request();
  r.recipients[0].diagnostic = "550 5.7.0 Nachricht blockiert: vertraulich \xE2\x80\x94 Richtlinie";
  r.envid = "";
  r.recipients[0].original_recipient = "";
  auto dsn = build_dsn(r);
  ASSERT_TRUE(dsn.has_value());
  expect_line_discipline(dsn->content);
  for (char c : dsn->content) ASSERT_LT(static_cast<unsigned char>(c), 0x80);
  auto message = parse(dsn->content);
  GMimeMultipart* multipart = GMIME_MULTIPART(g_mime_message_get_mime_part(message.get()));
  GMimeObject* text = g_mime_multipart_get_part(multipart, 0);
  EXPECT_STREQ(g_mime_object_get_header(text, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_NE(content_of(text).find("vertraulich \xE2\x80\x94 Richtlinie"), std::string::npos);
  auto blocks = status_blocks(content_of(g_mime_multipart_get_part(multipart, 1)));
  EXPECT_EQ(blocks[1]["Diagnostic-Code"],
            "smtp; 550 5.7.0 Nachricht blockiert: vertraulich ??? Richtlinie");
  EXPECT_EQ(blocks[0].count("Original-Envelope-Id"), 0u);
  EXPECT_EQ(blocks[1].count("Original-Recipient"), 0u);
}

TEST(Dsn, NotifyAndRetParametersAreHonoured) {
  EXPECT_TRUE(dsn_requested("", DsnAction::failed));
  EXPECT_TRUE(dsn_requested("", DsnAction::delayed));
  EXPECT_FALSE(dsn_requested("NEVER", DsnAction::failed));
  EXPECT_TRUE(dsn_requested("SUCCESS,FAILURE", DsnAction::failed));
  EXPECT_FALSE(dsn_requested("SUCCESS,FAILURE", DsnAction::delayed));
  EXPECT_TRUE(dsn_requested("delay", DsnAction::delayed));
  EXPECT_EQ(dsn_return("FULL"), DsnReturn::full);
  EXPECT_EQ(dsn_return("hdrs"), DsnReturn::headers);
  EXPECT_EQ(dsn_return(""), DsnReturn::headers);
}

Envelope bounced_envelope() {
  Envelope e;
  e.sender = "alice@example.com";
  e.params.ret = "FULL";
  e.params.envid = "QQ314159";
  e.arrival = std::chrono::system_clock::now() - 1h;
  Recipient bob;
  bob.address = "bob@example.net";
  bob.orcpt = "rfc822;bob@example.net";
  bob.state = RecipientState::failed;
  bob.last_reply = "550 5.7.0 blocked";
  bob.status = "5.7.0";
  bob.remote_mta = "10.0.0.1";
  Recipient quiet = bob;
  quiet.address = "quiet@example.net";
  quiet.notify = "NEVER";
  Recipient carol;
  carol.address = "carol@example.org";
  carol.last_reply = "451 4.7.1 later";
  e.recipients = {bob, quiet, carol};
  return e;
}

TEST(DsnRequest, AFailureReportsWhatEachRecipientRecordedAndSkipsThoseWhoSaidNever) {
  auto e = bounced_envelope();
  DsnContext c;
  c.reporting_mta = "gw.test";
  c.queue_id = "1K0WGRTWD910VJKH";
  c.original = "Subject: x\r\n\r\nbody\r\n";
  c.dlp_refused = true;
  c.now = c.last_attempt = std::chrono::system_clock::now();
  auto req = dsn_request(e, DsnAction::failed, std::vector<std::size_t>{0, 1}, c);
  EXPECT_EQ(req.original_sender, "alice@example.com");
  EXPECT_EQ(req.envid, "QQ314159");
  // RET=FULL, but DLP refused the content, and alice's domain is not local.
  EXPECT_EQ(req.ret, DsnReturn::nothing);
  ASSERT_EQ(req.recipients.size(), 1u);
  const auto& d = req.recipients[0];
  EXPECT_EQ(d.final_recipient, "bob@example.net");
  EXPECT_EQ(d.original_recipient, "rfc822;bob@example.net");
  EXPECT_EQ(d.status, "5.7.0");
  EXPECT_EQ(d.remote_mta, "10.0.0.1");
  EXPECT_EQ(d.diagnostic, "550 5.7.0 blocked");
  EXPECT_FALSE(d.will_retry_until.has_value());
  c.sender_local = true;
  EXPECT_EQ(dsn_request(e, DsnAction::failed, std::vector<std::size_t>{0}, c).ret,
            DsnReturn::identifying_headers);
}

TEST(DsnRequest, ContentDlpHasNotPassedIsWithheldAsIfRefused) {
  auto e = bounced_envelope();  // RET=FULL, still waiting for DLP
  DsnContext c;
  auto ret = [&] { return dsn_request(e, DsnAction::failed, std::vector<std::size_t>{0}, c).ret; };
  EXPECT_EQ(ret(), DsnReturn::nothing);  // e.g. expired while DLP kept deferring it
  c.sender_local = true;
  EXPECT_EQ(ret(), DsnReturn::identifying_headers);
  e.flags.inspected = true;  // DLP passed it; the next hop refused it
  EXPECT_EQ(ret(), DsnReturn::full);
  c.sender_local = false;
  EXPECT_EQ(ret(), DsnReturn::full);
  e.flags.inspected = false;
  e.flags.bypassed = true;  // delivered around DLP by the administrator's choice
  EXPECT_EQ(ret(), DsnReturn::full);
  c.dlp_refused = true;
  EXPECT_EQ(ret(), DsnReturn::nothing);
}

TEST(DsnRequest, ADelayReports441AndUntilWhenItIsRetried) {
  auto e = bounced_envelope();
  DsnContext c;
  c.will_retry_until = e.arrival + 24h;
  auto req = dsn_request(e, DsnAction::delayed, std::vector<std::size_t>{2}, c);
  ASSERT_EQ(req.recipients.size(), 1u);
  EXPECT_EQ(req.recipients[0].status, "4.4.1");
  EXPECT_EQ(req.recipients[0].remote_mta, "");
  EXPECT_EQ(req.recipients[0].will_retry_until, e.arrival + 24h);
}

TEST(DsnRequest, AFailureWithoutARecordedStatusIsReportedAs500) {
  auto e = bounced_envelope();
  e.recipients[0].status.clear();
  auto req = dsn_request(e, DsnAction::failed, std::vector<std::size_t>{0}, DsnContext{});
  ASSERT_EQ(req.recipients.size(), 1u);
  EXPECT_EQ(req.recipients[0].status, "5.0.0");
}

TEST(DsnRequest, TheDsnIsQueuedFromTheNullSenderAsInspected) {
  DsnMessage dsn{"", "alice@example.com", "content"};
  auto now = std::chrono::system_clock::now();
  auto env = dsn_envelope(dsn, DsnAction::failed, "1K0WGRTWD910VJKH", now);
  EXPECT_EQ(env.sender, "");
  ASSERT_EQ(env.recipients.size(), 1u);
  EXPECT_EQ(env.recipients[0].address, "alice@example.com");
  EXPECT_TRUE(env.flags.inspected);
  EXPECT_EQ(env.next_attempt, now);
  ASSERT_EQ(env.trace.size(), 1u);
  EXPECT_EQ(env.trace[0].detail, "DSN (failure) for queue 1K0WGRTWD910VJKH");
}

TEST(DsnRequest, MakeDsnRefusesANullSenderAndReportsWhenNobodyAsked) {
  auto e = bounced_envelope();
  DsnContext c;
  c.queue_id = "1K0WGRTWD910VJKH";
  c.reporting_mta = "gw.test";
  c.original = "Subject: x\r\n\r\nbody\r\n";
  auto made = make_dsn(e, DsnAction::failed, std::vector<std::size_t>{0}, c);
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->envelope.recipients[0].address, "alice@example.com");
  EXPECT_NE(made->content.find("Final-Recipient: rfc822; bob@example.net"), std::string::npos);
  auto nobody = make_dsn(e, DsnAction::failed, std::vector<std::size_t>{1}, c);
  ASSERT_FALSE(nobody.has_value());
  EXPECT_EQ(nobody.error(), DsnError::no_recipients);
  e.sender.clear();
  auto null = make_dsn(e, DsnAction::failed, std::vector<std::size_t>{0}, c);
  ASSERT_FALSE(null.has_value());
  EXPECT_EQ(null.error(), DsnError::null_sender);
}

}  // namespace
}  // namespace cordon::queue
