// Peer tests of the Handler hooks as the prevent role uses them: the order
// of hook calls, the envelope the session exposes, a preformatted
// multi-line block reply sent verbatim after DATA, and refusals from hooks.
#include <gtest/gtest.h>

#include <mutex>

#include "smtp/server.hpp"
#include "smtp_test_support.hpp"

namespace cordon::smtp {
namespace {

using testing::probe;
using testing::quote;
using testing::TestServer;

const std::string kBlock =
    "550-5.7.0 Message blocked: payment card data\r\n550-5.7.0 Policy: PCI\r\n550 5.7.0 Incident "
    "17\r\n";

struct Journal {
  std::mutex mutex;
  std::vector<std::string> calls;
  std::string content;
  void add(std::string call) {
    std::lock_guard lock(mutex);
    calls.push_back(std::move(call));
  }
};

class JournalSink : public DataSink {
 public:
  explicit JournalSink(std::shared_ptr<Journal> j) : journal_(std::move(j)) {}
  asio::awaitable<void> write(std::string_view chunk) override {
    std::lock_guard lock(journal_->mutex);
    journal_->content.append(chunk);
    co_return;
  }

 private:
  std::shared_ptr<Journal> journal_;
};

// Blocks every message with a preformatted block reply; refuses sender
// "bad@example.com" and recipient "nobody@example.com".
class BlockingHandler : public Handler {
 public:
  explicit BlockingHandler(std::shared_ptr<Journal> j) : journal_(std::move(j)) {}
  asio::awaitable<std::optional<Reply>> on_connect(const SessionInfo& s) override {
    journal_->add("connect " + s.client.address().to_string() + (s.id.empty() ? " no-id" : ""));
    co_return std::nullopt;
  }
  asio::awaitable<std::optional<Reply>> on_helo(const SessionInfo&,
                                                std::string_view name) override {
    journal_->add("helo " + std::string(name));
    co_return std::nullopt;
  }
  asio::awaitable<Reply> on_mail(const SessionInfo&, const MailFrom& m) override {
    journal_->add("mail " + m.sender);
    if (m.sender == "bad@example.com") co_return Reply::make(553, "5.7.1", "sender refused");
    co_return Reply::make(250, "2.1.0", "OK");
  }
  asio::awaitable<Reply> on_rcpt(const SessionInfo&, const RcptTo& r) override {
    journal_->add("rcpt " + r.recipient);
    if (r.recipient == "nobody@example.com") co_return Reply::make(550, "5.1.1", "no such user");
    co_return Reply::make(250, "2.1.5", "OK");
  }
  asio::awaitable<DataStart> on_data_begin(const SessionInfo& s) override {
    journal_->add("data " + std::to_string(s.recipients.size()));
    co_return DataStart{Reply::make(354, "", "go ahead"), std::make_unique<JournalSink>(journal_)};
  }
  asio::awaitable<Reply> on_data_end(const SessionInfo& s, std::uint64_t size) override {
    journal_->add("end " + std::to_string(size) + " from " + s.mail->sender);
    auto block = parse_reply(kBlock);
    co_return *block;
  }
  asio::awaitable<void> on_data_abort(const SessionInfo&, const Reply& sent) override {
    journal_->add("abort " + std::to_string(sent.code));
    co_return;
  }
  asio::awaitable<void> on_rset(const SessionInfo&) override {
    journal_->add("rset");
    co_return;
  }
  asio::awaitable<void> on_disconnect(const SessionInfo&) override {
    journal_->add("disconnect");
    co_return;
  }

 private:
  std::shared_ptr<Journal> journal_;
};

TEST(HandlerPeer, HooksSeeTheConversationAndBlockRepliesGoOutVerbatim) {
  auto journal = std::make_shared<Journal>();
  TestServer t({}, [journal] { return std::make_unique<BlockingHandler>(journal); });
  auto r = probe("raw", t.port(),
                 quote("EHLO c.example\\r\\nMAIL FROM:<bad@example.com>\\r\\n"
                       "MAIL FROM:<s@example.com>\\r\\nRCPT TO:<nobody@example.com>\\r\\n"
                       "RCPT TO:<r@example.com>\\r\\nDATA\\r\\ncard 4111\\r\\n.\\r\\n"
                       "MAIL FROM:<s@example.com>\\r\\nRSET\\r\\n"
                       "MAIL FROM:<s@example.com>\\r\\nRCPT "
                       "TO:<r@example.com>\\r\\nDATA\\r\\nbare\\nlf\\r\\n.\\r\\n"
                       "QUIT\\r\\n"));
  EXPECT_NE(r.output.find("553 5.7.1 sender refused\r\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("550 5.1.1 no such user\r\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("354 go ahead\r\n" + kBlock), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("550 5.6.11"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("221 2.0.0"), std::string::npos) << r.output;
  std::lock_guard lock(journal->mutex);
  std::vector<std::string> expected{"connect 127.0.0.1",
                                    "helo c.example",
                                    "mail bad@example.com",
                                    "mail s@example.com",
                                    "rcpt nobody@example.com",
                                    "rcpt r@example.com",
                                    "data 1",
                                    "end 11 from s@example.com",
                                    "mail s@example.com",
                                    "rset",
                                    "mail s@example.com",
                                    "rcpt r@example.com",
                                    "data 1",
                                    "abort 550",
                                    "disconnect"};
  EXPECT_EQ(journal->calls, expected);
  EXPECT_EQ(journal->content.substr(0, 11), "card 4111\r\n");
}

}  // namespace
}  // namespace cordon::smtp
