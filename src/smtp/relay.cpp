// The inline relay handler (see relay.hpp): MAIL and RCPT are mirrored onto
// the next hop as they arrive, the content is buffered, and at end of data
// the caller's decision says what happens to it; the upstream's final reply
// is the next hop's (or the decision's) and is sent only once the next hop
// has answered. With a session cache the next hop session is lent by it
// at the first MAIL and given back at the upstream's end.
#include "smtp/relay.hpp"

#include <spdlog/spdlog.h>

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <utility>

#include "util/result.hpp"

namespace cordon::smtp {

ClientTimeouts relay_timeouts() {
  using std::chrono::seconds;
  ClientTimeouts t;
  t.connect = seconds(10);
  t.greeting = seconds(60);
  t.helo = seconds(60);
  t.mail = seconds(60);
  t.rcpt = seconds(60);
  t.data = seconds(60);
  t.data_end = seconds(300);
  t.quit = seconds(10);
  return t;
}

RelayDecision RelayDecision::relay(std::shared_ptr<const std::string> content) {
  RelayDecision d;
  d.kind = Kind::relay;
  d.content = std::move(content);
  return d;
}

RelayDecision RelayDecision::redirect(std::shared_ptr<const std::string> content, std::string to) {
  RelayDecision d;
  d.kind = Kind::redirect;
  d.content = std::move(content);
  d.redirect_to = std::move(to);
  return d;
}

RelayDecision RelayDecision::answer(Reply reply) {
  RelayDecision d;
  d.kind = Kind::answer;
  d.reply = std::move(reply);
  return d;
}

namespace {

// Collects the content of one transaction. The session stops writing once
// max_message_size is exceeded (and refuses the message), so the buffer is
// bounded by that limit.
class BufferSink : public DataSink {
 public:
  explicit BufferSink(std::string& buffer) : buffer_(buffer) {}
  asio::awaitable<void> write(std::string_view chunk) override {
    buffer_.append(chunk);
    co_return;
  }

 private:
  std::string& buffer_;
};

class RelayHandler : public Handler {
 public:
  RelayHandler(asio::any_io_executor io, RelayOptions options, RelayHooks hooks)
      : io_(std::move(io)), options_(std::move(options)), hooks_(std::move(hooks)) {
    std::string host =
        options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
    hop_name_ = host + ":" + std::to_string(options_.port);
  }

  asio::awaitable<std::optional<Reply>> on_connect(const SessionInfo& session) override {
    if (!options_.client_allowed || options_.client_allowed(session.client.address()))
      co_return std::nullopt;
    spdlog::warn("{}: connection from {} refused: not in client_networks", options_.log_name,
                 session.client.address().to_string());
    if (hooks_.client_refused) hooks_.client_refused();
    co_return Reply::make(554, "5.7.1",
                          "Access denied: this DLP server takes mail only from its gateways");
  }

  asio::awaitable<Reply> on_mail(const SessionInfo& session, const MailFrom& mail) override {
    buffer_.clear();
    // A transaction the next hop still holds (it refused DATA itself) ends
    // before the next one begins.
    if (downstream_ && open_transaction_) co_await reset_downstream(session);
    // A session kept from an earlier transaction (this upstream session's,
    // or a parked one) may have been closed by the next hop while idle: no
    // reply or a 421 to its first commands drops it, and the transaction
    // goes over a new session. Nothing was sent for the message yet, so the
    // retry can neither lose nor double it.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool held = static_cast<bool>(downstream_);
      if (auto refusal = co_await ensure_downstream(session, attempt > 0)) co_return *refusal;
      const bool may_be_stale = held || lent_;
      const auto attributes = forwarded_attributes(session);
      auto sent = co_await downstream_->xforward_and_mail(attributes, mail.sender, mail.params);
      if (!sent) {
        if (!may_be_stale) co_return downstream_failed(session, sent.error());
        drop_stale();
        continue;
      }
      const auto& forwarded = sent->xforward;
      if (((forwarded && forwarded->code == 421) || sent->mail.code == 421) && may_be_stale) {
        drop_stale();
        continue;
      }
      if (forwarded && !forwarded->positive())
        spdlog::warn("{} {}: next hop {} refused XFORWARD: {} {}", options_.log_name, session.id,
                     hop_name_, forwarded->code, forwarded->text());
      Reply reply = std::move(sent->mail);
      if (lent_ && options_.sessions) options_.sessions->record(SessionCache::SessionUse::reused);
      lent_ = false;
      note(reply);
      if (reply.positive()) open_transaction_ = true;
      co_return reply;
    }
    co_return unavailable();
  }

  asio::awaitable<Reply> on_rcpt(const SessionInfo& session, const RcptTo& rcpt) override {
    if (!downstream_) co_return unavailable();
    auto reply = co_await downstream_->rcpt(rcpt.recipient, rcpt.params);
    if (!reply) co_return downstream_failed(session, reply.error());
    note(*reply);
    co_return *reply;
  }

  asio::awaitable<DataStart> on_data_begin(const SessionInfo&) override {
    buffer_.clear();
    co_return DataStart{Reply::make(354, "", "End data with <CR><LF>.<CR><LF>"),
                        std::make_unique<BufferSink>(buffer_)};
  }

  asio::awaitable<Reply> on_data_end(const SessionInfo& session, std::uint64_t) override {
    auto message = std::make_shared<const std::string>(std::exchange(buffer_, {}));
    if (!downstream_) co_return deferred(unavailable());

    RelayDecision decision = co_await hooks_.decide(session, message);
    Reply reply = co_await act(session, decision);
    if (decision.on_answer) decision.on_answer(reply);
    co_return reply;
  }

  asio::awaitable<void> on_data_abort(const SessionInfo& session, const Reply&) override {
    buffer_.clear();
    co_await reset_downstream(session);
  }

  asio::awaitable<void> on_rset(const SessionInfo& session) override {
    co_await reset_downstream(session);
  }

  asio::awaitable<void> on_disconnect(const SessionInfo&) override {
    if (!downstream_) co_return;
    if (options_.sessions && !closing_) {
      // Only a session between transactions is parked: the next upstream
      // session's MAIL must not land in this one's envelope.
      if (open_transaction_) {
        auto reset = co_await downstream_->rset();
        if (reset && reset->positive()) open_transaction_ = false;
      }
      if (!open_transaction_ && downstream_ &&
          options_.sessions->checkin(downstream_at_, client_options(), downstream_, uses_))
        co_return;
    }
    if (downstream_) {
      (void)co_await downstream_->quit();
      downstream_.reset();
    }
  }

 private:
  static Reply unavailable() {
    return Reply::make(451, "4.4.1", "Next hop not reachable, try again later");
  }

  // What the next hop learns of the client with XFORWARD (when it offers
  // it): what our own client forwarded, else our client itself.
  static std::vector<XforwardAttribute> forwarded_attributes(const SessionInfo& session) {
    if (session.forwarded) {
      const Forwarded& f = *session.forwarded;
      return {{"NAME", f.name}, {"ADDR", f.addr},   {"PORT", f.port},    {"PROTO", f.proto},
              {"HELO", f.helo}, {"IDENT", f.ident}, {"SOURCE", f.source}};
    }
    return {{"NAME", ""},
            {"ADDR", client_address(session)},
            {"PORT", std::to_string(session.client.port())},
            {"PROTO", session.esmtp ? "ESMTP" : "SMTP"},
            {"HELO", session.helo_name},
            {"SOURCE", "REMOTE"}};
  }

  ClientOptions client_options() const {
    ClientOptions options;
    options.helo_name = options_.helo_name;
    options.timeouts = options_.timeouts;
    return options;
  }

  // A reply that ends the next hop session (421: it closes the connection)
  // keeps it from being parked.
  void note(const Reply& reply) {
    if (reply.code == 421) closing_ = true;
  }

  // The kept session turned out closed: dropped without counting an error.
  void drop_stale() {
    if (lent_ && options_.sessions) options_.sessions->record(SessionCache::SessionUse::stale);
    downstream_.reset();
  }

  void count_error() {
    if (hooks_.downstream_error) hooks_.downstream_error();
  }

  Reply deferred(Reply reply) {
    if (hooks_.deferred) hooks_.deferred();
    return reply;
  }

  Reply downstream_failed(const SessionInfo& session, const ClientError& error) {
    count_error();
    spdlog::warn("{} {}: next hop {}: {} at {}: {}", options_.log_name, session.id, hop_name_,
                 error.kind == ClientErrorKind::timed_out ? "timed out" : "failed",
                 to_string(error.stage), error.detail);
    downstream_.reset();
    return unavailable();
  }

  asio::awaitable<Result<asio::ip::tcp::endpoint, std::string>> resolve_next_hop() {
    std::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (!ec) co_return asio::ip::tcp::endpoint(address, options_.port);
    asio::ip::tcp::resolver resolver(io_);
    auto found = co_await resolver.async_resolve(options_.host, std::to_string(options_.port),
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec || found.empty())
      co_return fail("cannot resolve " + options_.host + ": " + ec.message());
    co_return found.begin()->endpoint();
  }

  // nullopt when a greeted downstream session is ready (a parked one,
  // unless `fresh`); otherwise the reply for the upstream.
  asio::awaitable<std::optional<Reply>> ensure_downstream(const SessionInfo& session, bool fresh) {
    if (downstream_) co_return std::nullopt;
    auto where = co_await resolve_next_hop();
    if (!where) {
      count_error();
      spdlog::warn("{} {}: next hop: {}", options_.log_name, session.id, where.error());
      co_return unavailable();
    }
    const ClientOptions options = client_options();
    downstream_at_ = *where;
    open_transaction_ = false;
    closing_ = false;
    lent_ = false;
    uses_ = 0;
    if (options_.sessions && !fresh) {
      downstream_ = options_.sessions->checkout(*where, options, uses_);
      if (downstream_) {
        lent_ = true;
        co_return std::nullopt;
      }
    }
    if (options_.sessions) options_.sessions->record(SessionCache::SessionUse::opened);
    downstream_ = std::make_unique<ClientSession>(io_, options);
    auto greeting = co_await downstream_->connect(*where);
    if (!greeting) co_return downstream_failed(session, greeting.error());
    // GCC 12 mis-destroys a co_await inside a conditional expression: an
    // if statement keeps the temporaries apart.
    std::optional<ClientResult<Reply>> hello;
    if (greeting->positive()) {
      hello.emplace(co_await downstream_->hello());
    } else {
      hello.emplace(*greeting);
    }
    if (!*hello) co_return downstream_failed(session, hello->error());
    if (!(*hello)->positive()) {
      // A next hop that will not talk to us is a delivery problem to retry,
      // not a verdict on this message.
      count_error();
      spdlog::warn("{} {}: next hop {} refused the session: {} {}", options_.log_name, session.id,
                   hop_name_, (*hello)->code, (*hello)->text());
      downstream_.reset();
      co_return unavailable();
    }
    co_return std::nullopt;
  }

  asio::awaitable<void> reset_downstream(const SessionInfo& session) {
    if (!downstream_) co_return;
    auto reply = co_await downstream_->rset();
    if (!reply) {
      (void)downstream_failed(session, reply.error());
      co_return;
    }
    note(*reply);
    if (reply->positive()) open_transaction_ = false;
  }

  // Sends `content` as the downstream transaction's DATA and returns the
  // reply the upstream gets.
  asio::awaitable<Reply> relay(const SessionInfo& session, std::string_view content) {
    auto reply = co_await downstream_->data(content);
    if (!reply) co_return deferred(downstream_failed(session, reply.error()));
    note(*reply);
    // A final reply (not DATA's own refusal) ends the transaction.
    if (downstream_->stage() == Stage::data_end) {
      open_transaction_ = false;
      ++uses_;
    }
    if (reply->transient()) (void)deferred(*reply);
    co_return *reply;
  }

  // Replaces the mirrored transaction by one to the redirect address.
  asio::awaitable<Reply> redirect(const SessionInfo& session, std::string_view content,
                                  const std::string& address) {
    auto reset = co_await downstream_->rset();
    if (!reset) co_return deferred(downstream_failed(session, reset.error()));
    note(*reset);
    if (reset->positive()) open_transaction_ = false;
    // RSET ended the next hop's XFORWARD attributes too: say them again.
    const auto attributes = forwarded_attributes(session);
    const MailParams params = session.mail ? session.mail->params : MailParams{};
    const std::string sender = session.mail ? session.mail->sender : std::string();
    auto sent = co_await downstream_->xforward_and_mail(attributes, sender, params);
    if (!sent) co_return deferred(downstream_failed(session, sent.error()));
    const Reply& mail = sent->mail;
    note(mail);
    if (!mail.positive()) co_return mail;
    open_transaction_ = true;
    auto rcpt = co_await downstream_->rcpt(address);
    if (!rcpt) co_return deferred(downstream_failed(session, rcpt.error()));
    note(*rcpt);
    if (!rcpt->positive()) {
      co_await reset_downstream(session);
      co_return *rcpt;
    }
    co_return co_await relay(session, content);
  }

  asio::awaitable<Reply> act(const SessionInfo& session, const RelayDecision& decision) {
    switch (decision.kind) {
      case RelayDecision::Kind::relay:
        co_return co_await relay(session, *decision.content);
      case RelayDecision::Kind::redirect:
        co_return co_await redirect(session, *decision.content, decision.redirect_to);
      case RelayDecision::Kind::answer:
        break;
    }
    co_await reset_downstream(session);
    co_return decision.reply;
  }

  asio::any_io_executor io_;
  RelayOptions options_;
  RelayHooks hooks_;
  std::string hop_name_;
  std::unique_ptr<ClientSession> downstream_;
  asio::ip::tcp::endpoint downstream_at_;  // where downstream_ is connected
  std::size_t uses_ = 0;                   // messages downstream_ carried, parked ones included
  bool lent_ = false;                      // downstream_ is a parked session not yet answered
  bool open_transaction_ = false;          // downstream_ accepted MAIL; no final reply or RSET yet
  bool closing_ = false;                   // downstream_ answered 421: it is being closed
  std::string buffer_;
};

}  // namespace

std::unique_ptr<Handler> make_relay_handler(asio::any_io_executor io, RelayOptions options,
                                            RelayHooks hooks) {
  return std::make_unique<RelayHandler>(std::move(io), std::move(options), std::move(hooks));
}

}  // namespace cordon::smtp
