// Peer tests of the SMTP client: one-shot deliver() against Postfix's
// smtp-sink (with its fault options) and against the in-process test
// server, checking that every DeliveryOutcome is told apart exactly; and the
// step-wise ClientSession API.
#include <gtest/gtest.h>

#include "smtp/client.hpp"
#include "smtp_test_support.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator (aligned_alloc paired with Asio's own operator
// delete) into a test body; the pairing is Asio's and correct.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::smtp {
namespace {

using namespace std::chrono_literals;
using testing::local;
using testing::SmtpSink;
using testing::TestServer;

ClientOptions fast_options() {
  ClientOptions o;
  o.helo_name = "client.example";
  for (auto* t : {&o.timeouts.connect, &o.timeouts.greeting, &o.timeouts.helo, &o.timeouts.starttls,
                  &o.timeouts.mail, &o.timeouts.rcpt, &o.timeouts.data, &o.timeouts.data_end,
                  &o.timeouts.quit})
    *t = 5s;
  return o;
}

DeliveryEnvelope two_recipients() {
  DeliveryEnvelope e;
  e.sender = "sender@example.com";
  e.recipients = {{"a@example.com", {}}, {"b@example.com", {}}};
  return e;
}

const std::string kMessage = "Subject: test\r\n\r\nhello\r\n.dot line\r\n";

DeliveryResult send(unsigned short port, ClientOptions options = fast_options(),
                    DeliveryEnvelope envelope = two_recipients(), std::string message = kMessage) {
  return testing::run_coroutine<DeliveryResult>([&](asio::any_io_executor ex) {
    return deliver(ex, local(port), options, envelope, message);
  });
}

std::shared_ptr<asio::ssl::context> server_tls(testing::TempDir& dir) {
  if (!testing::make_self_signed(dir.path())) return nullptr;
  auto tls = make_server_tls_context((dir.path() / "cert.pem").string(),
                                     (dir.path() / "key.pem").string());
  return tls ? *tls : nullptr;
}

TEST(ClientPeer, DeliversToSmtpSinkWithPipelining) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink;
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok) << r.detail << r.reply.wire();
  EXPECT_EQ(r.reply.code, 250);
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[1].recipient, "b@example.com");
  EXPECT_EQ(r.recipients[1].reply.code, 250);
  EXPECT_FALSE(r.tls);
}

TEST(ClientPeer, RefusedConnectionIsConnectFailed) {
  auto r = send(testing::free_port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::connect_failed);
  EXPECT_EQ(r.stage, Stage::connect);
  EXPECT_FALSE(r.detail.empty());
}

TEST(ClientPeer, MissingGreetingIsTimedOutAtGreeting) {
  // A listener that never accepts: the kernel completes the TCP handshake,
  // nobody ever writes.
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, local(0));
  auto options = fast_options();
  options.timeouts.greeting = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = send(silent.local_endpoint().port(), options);
  EXPECT_EQ(r.outcome, DeliveryOutcome::timed_out);
  EXPECT_EQ(r.stage, Stage::greeting);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

class RejectingHandler : public Handler {
 public:
  explicit RejectingHandler(int code) : code_(code) {}
  asio::awaitable<std::optional<Reply>> on_connect(const SessionInfo&) override {
    co_return Reply::make(code_, code_ == 421 ? "4.3.2" : "5.7.1", "go away");
  }
  asio::awaitable<DataStart> on_data_begin(const SessionInfo&) override {
    co_return DataStart{Reply::make(554, "5.5.1", "no"), nullptr};
  }
  asio::awaitable<Reply> on_data_end(const SessionInfo&, std::uint64_t) override {
    co_return Reply::make(554, "5.5.1", "no");
  }

 private:
  int code_;
};

TEST(ClientPeer, Greeting421IsTransientAtGreeting) {
  TestServer t({}, [] { return std::make_unique<RejectingHandler>(421); });
  auto r = send(t.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::transient);
  EXPECT_EQ(r.stage, Stage::greeting);
  EXPECT_EQ(r.reply.wire(), "421 4.3.2 go away\r\n");
}

TEST(ClientPeer, Greeting554IsPermanentAtGreeting) {
  TestServer t({}, [] { return std::make_unique<RejectingHandler>(554); });
  auto r = send(t.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::permanent);
  EXPECT_EQ(r.stage, Stage::greeting);
  EXPECT_EQ(r.reply.code, 554);
}

TEST(ClientPeer, SoftRcptRejectionIsTransientAtRcpt) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-r", "RCPT"});
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::transient) << r.reply.wire();
  EXPECT_EQ(r.stage, Stage::rcpt);
  EXPECT_EQ(r.reply.code / 100, 4);
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_TRUE(r.recipients[0].reply.transient());
}

TEST(ClientPeer, HardMailRejectionIsPermanentAtMail) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-f", "MAIL"});
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::permanent);
  EXPECT_EQ(r.stage, Stage::mail);
  EXPECT_EQ(r.reply.code / 100, 5);
}

TEST(ClientPeer, HardEndOfDataRejectionIsPermanentAtDataEnd) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-f", "."});
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::permanent) << r.reply.wire();
  EXPECT_EQ(r.stage, Stage::data_end);
  EXPECT_EQ(r.reply.code / 100, 5);
  EXPECT_FALSE(r.reply.lines.empty());
}

TEST(ClientPeer, SoftDataRejectionIsTransientAtData) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-r", "DATA"});
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::transient);
  EXPECT_EQ(r.stage, Stage::data);
}

TEST(ClientPeer, Reply421ThenHangUpIsTransient) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-Q", "RCPT"});
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::transient);
  EXPECT_EQ(r.stage, Stage::rcpt);
  EXPECT_EQ(r.reply.code, 421);
}

TEST(ClientPeer, HangUpWithoutReplyIsTransientWithLocalReply) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-q", "DATA"});
  ASSERT_TRUE(sink.ready());
  auto r = send(sink.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::transient);
  EXPECT_EQ(r.stage, Stage::data);
  EXPECT_EQ(r.reply.enhanced, "4.4.2");
  EXPECT_FALSE(r.detail.empty());
}

TEST(ClientPeer, SlowEndOfDataIsTimedOutAtDataEnd) {
  CORDON_SKIP_WITHOUT_SMTP_SINK();
  SmtpSink sink({"-W", ".:3"});
  ASSERT_TRUE(sink.ready());
  auto options = fast_options();
  options.timeouts.data_end = 500ms;
  auto r = send(sink.port(), options);
  EXPECT_EQ(r.outcome, DeliveryOutcome::timed_out);
  EXPECT_EQ(r.stage, Stage::data_end);
}

TEST(ClientPeer, RequiredTlsNotOfferedIsTlsFailed) {
  TestServer t;  // no certificate: STARTTLS not offered
  auto options = fast_options();
  options.tls = TlsPolicy::required;
  auto r = send(t.port(), options);
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed);
  EXPECT_EQ(r.stage, Stage::starttls);
  EXPECT_EQ(t.store().message_count(), 0u);
}

TEST(ClientPeer, OpportunisticTlsWithoutOfferDeliversInPlaintext) {
  TestServer t;
  auto options = fast_options();
  options.tls = TlsPolicy::opportunistic;
  auto r = send(t.port(), options);
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok);
  EXPECT_FALSE(r.tls);
}

TEST(ClientPeer, RequiredTlsIsNegotiatedWhenOffered) {
  testing::TempDir dir;
  ServerOptions server_options;
  server_options.tls = server_tls(dir);
  ASSERT_TRUE(server_options.tls);
  TestServer t(server_options);
  auto options = fast_options();
  options.tls = TlsPolicy::required;
  auto r = send(t.port(), options);
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok) << r.detail;
  EXPECT_TRUE(r.tls);
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].tls);
  EXPECT_EQ(messages[0].helo_name, "client.example");
}

TEST(ClientPeer, RequiredTlsWithFailingHandshakeIsTlsFailed) {
  testing::TempDir dir;
  ServerOptions server_options;
  server_options.tls = server_tls(dir);
  ASSERT_TRUE(server_options.tls);
  TestServer t(server_options);
  auto options = fast_options();
  options.tls = TlsPolicy::required;
  // Verifying the self-signed certificate must fail the handshake.
  options.tls_context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  options.tls_context->set_verify_mode(asio::ssl::verify_peer);
  options.tls_server_name = "localhost";
  auto r = send(t.port(), options);
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed);
  EXPECT_EQ(r.stage, Stage::starttls);
}

DeliveryResult send_verified(unsigned short port, const std::string& ca, const std::string& name) {
  auto options = fast_options();
  options.tls = TlsPolicy::required;
  auto context = make_verifying_client_tls_context(ca);
  EXPECT_TRUE(context) << (context ? "" : context.error());
  if (context) options.tls_context = *context;
  options.tls_server_name = name;
  return send(port, options);
}

TEST(ClientPeer, VerifiedTlsAcceptsACertificateOfTheCaWithTheRightName) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::make_ca_signed(dir.path(), "dlp.test"));
  ServerOptions server_options;
  auto tls = make_server_tls_context((dir.path() / "cert.pem").string(),
                                     (dir.path() / "key.pem").string());
  ASSERT_TRUE(tls);
  server_options.tls = *tls;
  TestServer t(server_options);
  const std::string ca = (dir.path() / "ca.pem").string();
  auto r = send_verified(t.port(), ca, "dlp.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok) << r.detail;
  EXPECT_TRUE(r.tls);
  // The same certificate under another name is refused.
  r = send_verified(t.port(), ca, "other.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed);
  EXPECT_NE(r.detail.find("certificate verify failed"), std::string::npos) << r.detail;
  // An address the certificate names verifies as well.
  r = send_verified(t.port(), ca, "127.0.0.1");
  EXPECT_EQ(r.outcome, DeliveryOutcome::ok) << r.detail;
}

TEST(ClientPeer, VerifiedTlsRefusesACertificateNotSignedByTheCa) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::make_ca_signed(dir.path(), "dlp.test"));
  ServerOptions server_options;
  server_options.tls = server_tls(dir);  // self-signed, CN=localhost, not by ca.pem
  ASSERT_TRUE(server_options.tls);
  TestServer t(server_options);
  auto r = send_verified(t.port(), (dir.path() / "ca.pem").string(), "localhost");
  EXPECT_EQ(r.outcome, DeliveryOutcome::tls_failed);
  EXPECT_NE(r.detail.find("certificate verify failed"), std::string::npos) << r.detail;
  EXPECT_EQ(r.stage, Stage::starttls);
}

TEST(ClientPeer, AnUnreadableCaFileIsAnError) {
  EXPECT_FALSE(make_verifying_client_tls_context("/nonexistent/ca.pem"));
}

TEST(ClientPeer, NormalisesAndDotStuffsTheMessage) {
  TestServer t;
  auto r = send(t.port(), fast_options(), two_recipients(), "Subject: x\n\n.one\nbare\rend");
  ASSERT_EQ(r.outcome, DeliveryOutcome::ok);
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].content, "Subject: x\r\n\r\n.one\r\nbare\r\nend\r\n");
}

TEST(ClientPeer, AllRecipientsRefusedWithMixedCodesIsTransient) {
  class MixedHandler : public RejectingHandler {
   public:
    MixedHandler() : RejectingHandler(0) {}
    asio::awaitable<std::optional<Reply>> on_connect(const SessionInfo&) override {
      co_return std::nullopt;
    }
    asio::awaitable<Reply> on_rcpt(const SessionInfo&, const RcptTo& r) override {
      co_return r.recipient[0] == 'a' ? Reply::make(550, "5.1.1", "unknown")
                                      : Reply::make(450, "4.2.1", "busy");
    }
  };
  TestServer t({}, [] { return std::make_unique<MixedHandler>(); });
  auto r = send(t.port());
  EXPECT_EQ(r.outcome, DeliveryOutcome::transient);
  EXPECT_EQ(r.stage, Stage::rcpt);
  EXPECT_EQ(r.reply.wire(), "450 4.2.1 busy\r\n");
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].reply.code, 550);
}

struct StepWiseSeen {
  Capabilities caps;
  std::vector<int> codes;
  std::string final_text;
};

// A free coroutine, not a lambda: GCC 12 mishandles coroutine lambdas.
asio::awaitable<StepWiseSeen> step_wise(asio::any_io_executor ex, unsigned short port) {
  StepWiseSeen s;
  ClientSession c(ex, fast_options());
  // Each reply is awaited into a variable first: GCC 12 miscompiles
  // co_await inside function-call arguments.
  auto greeting = co_await c.connect(local(port));
  s.codes.push_back(greeting ? greeting->code : -1);
  auto hello = co_await c.hello();
  s.codes.push_back(hello ? hello->code : -1);
  s.caps = c.capabilities();
  MailParams params;
  params.body = Body::eight_bit_mime;
  auto mail = co_await c.mail("sender@example.com", params);
  s.codes.push_back(mail ? mail->code : -1);
  auto rcpt = co_await c.rcpt("a@example.com");
  s.codes.push_back(rcpt ? rcpt->code : -1);
  auto rset = co_await c.rset();
  s.codes.push_back(rset ? rset->code : -1);
  auto mail2 = co_await c.mail("sender@example.com");
  s.codes.push_back(mail2 ? mail2->code : -1);
  const RcptParams notify{"SUCCESS", ""};  // a named value: see the note in client.hpp
  auto rcpt2 = co_await c.rcpt("b@example.com", notify);
  s.codes.push_back(rcpt2 ? rcpt2->code : -1);
  auto data = co_await c.data("Subject: step\r\n\r\nbody\r\n");
  s.codes.push_back(data ? data->code : -1);
  if (data) s.final_text = data->text();
  auto quit = co_await c.quit();
  s.codes.push_back(quit ? quit->code : -1);
  co_return s;
}

TEST(ClientPeer, StepWiseSessionMirrorsEachStep) {
  TestServer t;
  auto seen = testing::run_coroutine<StepWiseSeen>(
      [&](asio::any_io_executor ex) { return step_wise(ex, t.port()); });
  EXPECT_EQ(seen.codes, (std::vector<int>{220, 250, 250, 250, 250, 250, 250, 250, 221}));
  EXPECT_TRUE(seen.caps.pipelining);
  EXPECT_TRUE(seen.caps.dsn);
  EXPECT_TRUE(seen.caps.eight_bit_mime);
  EXPECT_EQ(seen.caps.max_size, ServerLimits{}.max_message_size);
  EXPECT_NE(seen.final_text.find("queued"), std::string::npos);
  auto messages = t.store().messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].recipients, std::vector<std::string>{"b@example.com"});
  EXPECT_EQ(messages[0].params.body, Body::unspecified);
}

// Records every envelope command the server saw.
struct EnvelopeJournal {
  std::mutex mutex;
  std::vector<std::string> seen;
  void add(std::string line) {
    std::lock_guard lock(mutex);
    seen.push_back(std::move(line));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

class JournalHandler : public Handler {
 public:
  explicit JournalHandler(std::shared_ptr<EnvelopeJournal> j) : journal_(std::move(j)) {}
  asio::awaitable<Reply> on_mail(const SessionInfo&, const MailFrom& m) override {
    journal_->add("mail " + m.sender);
    co_return Reply::make(250, "2.1.0", "OK");
  }
  asio::awaitable<Reply> on_rcpt(const SessionInfo&, const RcptTo& r) override {
    journal_->add("rcpt " + r.recipient);
    co_return Reply::make(250, "2.1.5", "OK");
  }
  asio::awaitable<DataStart> on_data_begin(const SessionInfo&) override {
    co_return DataStart{Reply::make(354, "", "go ahead"), nullptr};
  }
  asio::awaitable<Reply> on_data_end(const SessionInfo&, std::uint64_t) override {
    co_return Reply::make(250, "2.0.0", "OK");
  }

 private:
  std::shared_ptr<EnvelopeJournal> journal_;
};

// CR, LF or NUL in an address would let it smuggle a command into the next
// hop's conversation: the client refuses to write such a command at all.
TEST(ClientPeer, DeliverRefusesAnEnvelopeWithCrLfOrNulAndSendsNothingOfIt) {
  auto journal = std::make_shared<EnvelopeJournal>();
  TestServer t({}, [journal] { return std::make_unique<JournalHandler>(journal); });
  for (std::string bad : {std::string("victim@example.com>\r\nRCPT TO:<evil@example.com"),
                          std::string("a\nb@example.com"), std::string("a\0b@example.com", 16)}) {
    DeliveryEnvelope e;
    e.sender = "sender@example.com";
    e.recipients = {{"ok@example.com", {}}, {bad, {}}};
    auto r = send(t.port(), fast_options(), e);
    EXPECT_EQ(r.outcome, DeliveryOutcome::permanent);
    EXPECT_EQ(r.stage, Stage::rcpt);
    EXPECT_EQ(r.reply.wire(), "553 5.1.3 Bad recipient address syntax\r\n");
    EXPECT_NE(r.detail.find("CR, LF or NUL"), std::string::npos) << r.detail;

    DeliveryEnvelope s;
    s.sender = bad;
    s.recipients = {{"ok@example.com", {}}};
    auto rs = send(t.port(), fast_options(), s);
    EXPECT_EQ(rs.outcome, DeliveryOutcome::permanent);
    EXPECT_EQ(rs.stage, Stage::mail);
    EXPECT_EQ(rs.reply.code, 553);
  }
  EXPECT_TRUE(journal->all().empty()) << journal->all().front();
}

asio::awaitable<std::vector<std::string>> step_wise_refusals(asio::any_io_executor ex,
                                                             unsigned short port) {
  std::vector<std::string> out;
  auto options = fast_options();
  options.pipelining = false;
  {
    ClientSession c(ex, options);
    co_await c.connect(local(port));
    co_await c.hello();
    auto mail = co_await c.mail("a\r\nRSET");
    out.push_back(mail ? "sent"
                       : std::string(to_string(mail.error().stage)) + " " +
                             (mail.error().kind == ClientErrorKind::invalid_command
                                  ? "invalid_command"
                                  : "other"));
  }
  {
    ClientSession c(ex, options);
    co_await c.connect(local(port));
    co_await c.hello();
    co_await c.mail("s@example.com");
    auto rcpt = co_await c.rcpt(std::string_view("r\0@example.com", 15));
    out.push_back(rcpt ? "sent"
                       : std::string(to_string(rcpt.error().stage)) + " " +
                             (rcpt.error().kind == ClientErrorKind::invalid_command
                                  ? "invalid_command"
                                  : "other"));
  }
  {
    options.helo_name = "client.example\r\nMAIL FROM:<x@example.com>";
    ClientSession c(ex, options);
    co_await c.connect(local(port));
    auto hello = co_await c.hello();
    out.push_back(hello ? "sent" : std::string(to_string(hello.error().stage)));
  }
  co_return out;
}

TEST(ClientPeer, StepWiseCommandsWithCrLfOrNulAreNeverWritten) {
  auto journal = std::make_shared<EnvelopeJournal>();
  TestServer t({}, [journal] { return std::make_unique<JournalHandler>(journal); });
  auto seen = testing::run_coroutine<std::vector<std::string>>(
      [&](asio::any_io_executor ex) { return step_wise_refusals(ex, t.port()); });
  EXPECT_EQ(seen,
            (std::vector<std::string>{"mail invalid_command", "rcpt invalid_command", "helo"}));
  EXPECT_EQ(journal->all(), std::vector<std::string>{"mail s@example.com"});
}

}  // namespace
}  // namespace cordon::smtp
