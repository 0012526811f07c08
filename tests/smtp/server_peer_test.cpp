// Peer tests of the SMTP server session: a test server (default memory
// handler) on 127.0.0.1 port 0, driven by swaks and by Python's smtplib and
// raw sockets (tests/smtp/smtp_probe.py).
#include <gtest/gtest.h>

#include <asio/write.hpp>

#include "smtp/server.hpp"
#include "smtp_test_support.hpp"

namespace cordon::smtp {
namespace {

using cordon::testing::run_command;
using testing::probe;
using testing::quote;
using testing::TestServer;

const std::string kEnvelope =
    "EHLO probe.example\\r\\nMAIL FROM:<s@example.com>\\r\\nRCPT TO:<r@example.com>\\r\\n";

std::string swaks(unsigned short port, const std::string& extra) {
  return "timeout 60 swaks --server 127.0.0.1:" + std::to_string(port) +
         " --from s@example.com --to r@example.com --timeout 20 " + extra + " 2>&1";
}

TEST(ServerPeer, SwaksDeliversWithPipelining) {
  TestServer t;
  auto r = run_command(swaks(t.port(), "--pipeline --header 'Subject: pipelined'"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("PIPELINING"), std::string::npos);
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u) << r.output;
  EXPECT_EQ(messages[0].sender, "s@example.com");
  EXPECT_EQ(messages[0].recipients, std::vector<std::string>{"r@example.com"});
  EXPECT_NE(messages[0].content.find("Subject: pipelined\r\n"), std::string::npos);
  EXPECT_FALSE(messages[0].tls);
}

TEST(ServerPeer, SwaksNegotiatesStartTlsWithSelfSignedCertificate) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::make_self_signed(dir.path()));
  auto tls = make_server_tls_context((dir.path() / "cert.pem").string(),
                                     (dir.path() / "key.pem").string());
  ASSERT_TRUE(tls) << tls.error();
  ServerOptions options;
  options.tls = *tls;
  TestServer t(options);
  auto r = run_command(swaks(t.port(), "--tls"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u) << r.output;
  EXPECT_TRUE(messages[0].tls);
}

TEST(ServerPeer, StartTlsNotOfferedWithoutCertificate) {
  TestServer t;
  auto r = probe("raw", t.port(), quote("EHLO x.example\\r\\nSTARTTLS\\r\\nQUIT\\r\\n"));
  EXPECT_EQ(r.output.find("STARTTLS\r\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("502 5.5.1"), std::string::npos) << r.output;
}

TEST(ServerPeer, PlaintextPipelinedAfterStartTlsIsDiscarded) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::make_self_signed(dir.path()));
  auto tls = make_server_tls_context((dir.path() / "cert.pem").string(),
                                     (dir.path() / "key.pem").string());
  ASSERT_TRUE(tls);
  ServerOptions options;
  options.tls = *tls;
  TestServer t(options);
  auto r = probe("starttls_inject", t.port());
  EXPECT_NE(r.output.find("STARTTLS: 220 2.0.0"), std::string::npos) << r.output;
  // After TLS the session starts over: STARTTLS is no longer offered, and the
  // injected MAIL never happened, so RCPT is out of sequence.
  EXPECT_EQ(r.output.find("STARTTLS|"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("RCPT: 503 5.5.1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("QUIT: 221"), std::string::npos) << r.output;
}

TEST(ServerPeer, SmtplibSends8BitMimeUnchanged) {
  TestServer t;
  auto r = probe("smtplib_8bit", t.port());
  EXPECT_NE(r.output.find("OK {}"), std::string::npos) << r.output;
  for (auto feature :
       {"'8bitmime'", "'pipelining'", "'size'", "'enhancedstatuscodes'", "'smtputf8'", "'dsn'"})
    EXPECT_NE(r.output.find(feature), std::string::npos) << feature << r.output;
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].params.body, Body::eight_bit_mime);
  EXPECT_NE(messages[0].content.find("Gr\xC3\xBC\xC3\x9F"
                                     "e aus K\xC3\xB6ln\r\n.leading dot\r\n"),
            std::string::npos)
      << messages[0].content;
}

TEST(ServerPeer, OversizeMessageIsRefusedAtMailFromSize) {
  ServerOptions options;
  options.limits.max_message_size = 2000;
  TestServer t(options);
  auto r = probe("smtplib_size", t.port(), "5000");
  EXPECT_NE(r.output.find("ERR 552 5.3.4"), std::string::npos) << r.output;
  EXPECT_EQ(t.store().message_count(), 0u);
}

TEST(ServerPeer, OversizeMessageIsRefusedAfterData) {
  ServerOptions options;
  options.limits.max_message_size = 2000;
  TestServer t(options);
  std::string body(3000, 'x');
  auto r = probe("raw", t.port(),
                 quote(kEnvelope + "DATA\\r\\n" + body + "\\r\\n.\\r\\nNOOP\\r\\nQUIT\\r\\n"));
  EXPECT_NE(r.output.find("552 5.3.4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("250 2.0.0 OK\r\n221"), std::string::npos) << r.output;
  EXPECT_EQ(t.store().message_count(), 0u);
  EXPECT_EQ(t.store().abort_count(), 1u);
}

TEST(ServerPeer, TooManyRecipientsGet452) {
  ServerOptions options;
  options.limits.max_recipients = 2;
  TestServer t(options);
  auto r = probe("smtplib_recipients", t.port(), "3");
  EXPECT_NE(r.output.find("OK {'r2@example.com': (452, b'4.5.3"), std::string::npos) << r.output;
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].recipients.size(), 2u);
}

// RFC 5321 4.5.3.1.8: a client may send 10,000 RCPTs; those over the limit
// get 452 4.5.3, the session survives them, and the message goes to the
// recipients accepted so far.
TEST(ServerPeer, TenThousandRecipientsDeliverToTheAcceptedOnes) {
  TestServer t;  // max_recipients 1000, max_errors 20
  auto r = probe("smtplib_many_recipients", t.port(), "10000");
  EXPECT_NE(r.output.find("ACCEPTED 1000 REFUSED 9000 [(452, '4.5.3')]"), std::string::npos)
      << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("NOOP 250"), std::string::npos) << r.output.substr(0, 2000);
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_EQ(messages[0].recipients.size(), 1000u);
  EXPECT_EQ(messages[0].recipients.front(), "r0@example.com");
  EXPECT_EQ(messages[0].recipients.back(), "r999@example.com");
  EXPECT_EQ(t.server().counters().recipients_over_limit, 9000u);
}

// A CR inside an address (a LF ends the line first) is refused as an
// address error, and nothing of the smuggled second command is executed.
TEST(ServerPeer, ControlCharactersInPathsAreRefusedAndNothingIsSmuggled) {
  TestServer t;
  auto r = probe("raw", t.port(),
                 quote("EHLO x.example\r\nMAIL FROM:<a\rb@example.com>\r\n"
                       "MAIL FROM:<s@example.com>\r\n"
                       "RCPT TO:<victim@example.com\rRCPT TO:<evil@example.com>\r\n"
                       "RCPT TO:<a\x00b@example.com>\r\nRCPT TO:<a\tb@example.com>\r\n"
                       "RCPT TO:<r@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"));
  const char* expected[] = {"501 5.1.7 Bad sender address syntax",
                            "250 2.1.0",
                            "501 5.1.3 Bad recipient address syntax",
                            "501 5.1.3 Bad recipient address syntax",
                            "501 5.1.3 Bad recipient address syntax",
                            "250 2.1.5",
                            "354 ",
                            "250 ",
                            "221 2.0.0"};
  std::size_t pos = 0;
  for (const char* e : expected) {
    std::size_t at = r.output.find(e, pos);
    ASSERT_NE(at, std::string::npos) << e << "\n" << r.output;
    pos = at + 1;
  }
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].recipients, std::vector<std::string>{"r@example.com"});
}

// Each smuggling sequence stays inside the first message, which is refused
// whole; the "second message" is never accepted and the session goes on.
TEST(ServerPeer, SmugglingAttemptsAreRejectedAndNothingIsAccepted) {
  TestServer t;
  for (std::string smuggle : {"\\n.\\n", "\\n.\\r\\n", "\\r.\\r", "\\r\\n.\\n"}) {
    std::string payload =
        kEnvelope + "DATA\\r\\nSubject: one\\r\\n\\r\\nfirst" + smuggle +
        "MAIL FROM:<evil@example.com>\\r\\nRCPT TO:<victim@example.com>\\r\\n"
        "DATA\\r\\nSubject: smuggled\\r\\n\\r\\nsecond\\r\\n.\\r\\nNOOP\\r\\nQUIT\\r\\n";
    auto r = probe("raw", t.port(), quote(payload));
    EXPECT_NE(r.output.find("550 5.6.11"), std::string::npos) << smuggle << r.output;
    EXPECT_NE(r.output.find("250 2.0.0 OK\r\n221 2.0.0"), std::string::npos) << smuggle << r.output;
    EXPECT_EQ(r.output.find("queued"), std::string::npos) << smuggle << r.output;
  }
  EXPECT_EQ(t.store().message_count(), 0u);
  EXPECT_EQ(t.store().abort_count(), 4u);
}

TEST(ServerPeer, PipelinedTransactionsGetOrderedReplies) {
  TestServer t;
  std::string one =
      "MAIL FROM:<a@example.com>\\r\\nRCPT TO:<b@example.com>\\r\\nRCPT TO:<c@example.com>\\r\\n"
      "DATA\\r\\n..dot\\r\\n.\\r\\n";
  auto r = probe("raw", t.port(), quote("EHLO x.example\\r\\n" + one + one + "QUIT\\r\\n"));
  const std::string expected =
      "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n354 ";
  std::size_t first = r.output.find(expected);
  ASSERT_NE(first, std::string::npos) << r.output;
  EXPECT_NE(r.output.find(expected, first + 1), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("221 2.0.0 Bye\r\n<closed>"), std::string::npos) << r.output;
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].content, ".dot\r\n");
}

TEST(ServerPeer, GarbageCommandsGet500AndTheSessionContinues) {
  TestServer t;
  auto r = probe("raw", t.port(),
                 quote("EHLO x.example\\r\\nGET / HTTP/1.0\\r\\n\\x01\\x02\\r\\nNOOP\\r\\n"));
  std::size_t first = r.output.find("500 5.5.2");
  ASSERT_NE(first, std::string::npos) << r.output;
  EXPECT_NE(r.output.find("500 5.5.2", first + 1), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("250 2.0.0 OK"), std::string::npos) << r.output;
}

TEST(ServerPeer, EnforcesCommandSequence) {
  TestServer t;
  auto r = probe(
      "raw", t.port(),
      quote("MAIL FROM:<a@example.com>\\r\\nHELO x.example\\r\\nRCPT TO:<b@example.com>\\r\\n"
            "DATA\\r\\nMAIL FROM:<a@example.com> SIZE=10\\r\\nMAIL FROM:<a@example.com>\\r\\n"
            "MAIL FROM:<a@example.com>\\r\\nDATA\\r\\nVRFY bob\\r\\nEXPN all\\r\\nBDAT 1 LAST\\r\\n"
            "RSET\\r\\nQUIT\\r\\n"));
  const char* expected[] = {"503 5.5.1 Error: send HELO/EHLO first",
                            "250 localhost",
                            "503 5.5.1 Error: need MAIL command",
                            "503 5.5.1 Error: need RCPT command",
                            "555 5.5.4 Parameters need EHLO",
                            "250 2.1.0",
                            "503 5.5.1 Error: nested MAIL",
                            "554 5.5.1 Error: no valid recipients",
                            "252 2.5.0",
                            "502 5.5.1 EXPN",
                            "502 5.5.1 BDAT",
                            "250 2.0.0 OK",
                            "221 2.0.0"};
  std::size_t pos = 0;
  for (const char* e : expected) {
    std::size_t at = r.output.find(e, pos);
    ASSERT_NE(at, std::string::npos) << e << "\n" << r.output;
    pos = at;
  }
}

TEST(ServerPeer, LongCommandLinesAndBareLfAreRefused) {
  TestServer t;
  std::string long_line = "NOOP " + std::string(600, 'a');
  auto r =
      probe("raw", t.port(), quote("EHLO x.example\\r\\n" + long_line + "\\r\\nNOOP\\nNOOP\\r\\n"));
  EXPECT_NE(r.output.find("501 5.5.2 Line too long"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("500 5.5.2 Syntax error, command must end with <CR><LF>"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("250 2.0.0 OK"), std::string::npos) << r.output;
}

TEST(ServerPeer, TooManyErrorsCloseTheSessionWith421) {
  ServerOptions options;
  options.limits.max_errors = 3;
  TestServer t(options);
  auto r = probe("raw", t.port(), quote("BAD\\r\\nBAD\\r\\nBAD\\r\\nNOOP\\r\\n"));
  EXPECT_NE(r.output.find("500 5.5.2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("421 4.7.0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("<closed>"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("250 2.0.0 OK"), std::string::npos) << r.output;
}

TEST(ServerPeer, IdleTimeoutSends421AndCloses) {
  ServerOptions options;
  options.limits.idle_timeout = std::chrono::milliseconds(300);
  TestServer t(options);
  auto r = probe("idle", t.port(), "3");
  EXPECT_NE(r.output.find("421 4.4.2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("<closed>"), std::string::npos) << r.output;
}

TEST(ServerPeer, ConnectionsBeyondTheLimitGet421Busy) {
  ServerOptions options;
  options.limits.max_connections = 1;
  TestServer t(options);
  asio::io_context io;
  asio::ip::tcp::socket first(io);
  first.connect(testing::local(t.port()));
  std::string greeting(256, '\0');
  std::size_t n = first.read_some(asio::buffer(greeting));  // the session is running now
  EXPECT_EQ(greeting.substr(0, 4), "220 ");
  (void)n;
  auto r = probe("idle", t.port(), "2");
  EXPECT_NE(r.output.find("421 4.3.2"), std::string::npos) << r.output;
}

TEST(ServerPeer, ShutdownAnswersTheNextCommandWith421) {
  TestServer t;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect(testing::local(t.port()));
  std::string buf(512, '\0');
  s.read_some(asio::buffer(buf));
  t.server().shutdown();
  asio::write(s, asio::buffer(std::string("NOOP\r\n")));
  std::size_t n = s.read_some(asio::buffer(buf));
  EXPECT_EQ(buf.substr(0, n).substr(0, 9), "421 4.3.2") << buf.substr(0, n);
  EXPECT_FALSE(testing::wait_for_port(t.port(), std::chrono::milliseconds(300)));
}

}  // namespace
}  // namespace cordon::smtp
