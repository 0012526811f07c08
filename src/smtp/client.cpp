// The SMTP client session and one-shot delivery. Replies are read from one
// buffer so pipelined replies (RFC 2920) are taken apart in order.
#include "smtp/client.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include "smtp/data_codec.hpp"
#include "smtp/detail/connection.hpp"
#include "smtp/detail/delivery.hpp"

namespace cordon::smtp {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxReplyBuffer = 64 * 1024;  // a reply longer than this is malformed
constexpr std::size_t kReadChunk = 16 * 1024;

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper_word(std::string_view line) {
  std::string word;
  for (char c : line) {
    if (c == ' ' || c == '=') break;
    word.push_back(upper(c));
  }
  return word;
}

Capabilities parse_capabilities(const Reply& ehlo) {
  Capabilities caps;
  caps.esmtp = true;
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    const std::string& line = ehlo.lines[i];
    std::string keyword = upper_word(line);
    if (keyword == "PIPELINING") caps.pipelining = true;
    if (keyword == "STARTTLS") caps.starttls = true;
    if (keyword == "8BITMIME") caps.eight_bit_mime = true;
    if (keyword == "SMTPUTF8") caps.smtputf8 = true;
    if (keyword == "DSN") caps.dsn = true;
    if (keyword == "ENHANCEDSTATUSCODES") caps.enhanced_status_codes = true;
    if (keyword == "XFORWARD") {
      std::string rest = line.size() > 8 ? line.substr(8) : std::string();
      std::string word;
      for (char c : rest + " ") {
        if (c == ' ') {
          if (!word.empty()) caps.xforward.push_back(std::move(word));
          word.clear();
        } else {
          word.push_back(upper(c));
        }
      }
    }
    if (keyword == "SIZE") {
      caps.size = true;
      if (line.size() > 5) caps.max_size = std::strtoull(line.c_str() + 5, nullptr, 10);
    }
  }
  return caps;
}

}  // namespace

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::connect:
      return "connect";
    case Stage::greeting:
      return "greeting";
    case Stage::helo:
      return "helo";
    case Stage::starttls:
      return "starttls";
    case Stage::xforward:
      return "xforward";
    case Stage::mail:
      return "mail";
    case Stage::rcpt:
      return "rcpt";
    case Stage::data:
      return "data";
    case Stage::data_end:
      return "data_end";
    case Stage::rset:
      return "rset";
    case Stage::quit:
      return "quit";
  }
  return "?";
}

std::string_view to_string(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::ok:
      return "ok";
    case DeliveryOutcome::connect_failed:
      return "connect_failed";
    case DeliveryOutcome::timed_out:
      return "timed_out";
    case DeliveryOutcome::tls_failed:
      return "tls_failed";
    case DeliveryOutcome::transient:
      return "transient";
    case DeliveryOutcome::permanent:
      return "permanent";
  }
  return "?";
}

struct ClientSession::Impl {
  asio::any_io_executor executor;
  ClientOptions options;
  std::shared_ptr<Connection> conn;
  std::string in;
  Capabilities caps;
  Stage stage = Stage::connect;

  Impl(asio::any_io_executor ex, ClientOptions opts)
      : executor(asio::make_strand(ex)), options(std::move(opts)) {}

  ClientError failure(ClientErrorKind kind, Stage at, std::string detail) {
    stage = at;
    if (conn) conn->close();
    return ClientError{kind, at, std::move(detail)};
  }

  OfferedExtensions offered() const {
    if (!caps.esmtp) return OfferedExtensions{false, false, false, false};
    return OfferedExtensions{caps.size, caps.eight_bit_mime, caps.smtputf8, caps.dsn};
  }

  asio::awaitable<ClientResult<Reply>> read_reply(Stage at, std::chrono::milliseconds timeout) {
    stage = at;
    if (!conn) co_return fail(failure(ClientErrorKind::connection_lost, at, "not connected"));
    while (true) {
      std::size_t consumed = 0;
      auto parsed = parse_reply(in, &consumed);
      if (parsed) {
        in.erase(0, consumed);
        co_return std::move(*parsed);
      }
      if (parsed.error().code != ReplyErrorCode::incomplete || in.size() > kMaxReplyBuffer) {
        co_return fail(failure(ClientErrorKind::protocol_error, at, "malformed reply"));
      }
      std::size_t old = in.size();
      in.resize(old + kReadChunk);
      std::error_code ec;
      conn->expires_after(timeout);
      std::size_t n = co_await conn->read_some(asio::buffer(in.data() + old, kReadChunk), ec);
      conn->cancel_deadline();
      in.resize(old + n);
      if (ec || n == 0) {
        if (conn->timed_out())
          co_return fail(failure(ClientErrorKind::timed_out, at,
                                 "no reply within " + std::to_string(timeout.count()) + " ms"));
        co_return fail(failure(ClientErrorKind::connection_lost, at,
                               ec ? ec.message() : "connection closed by server"));
      }
    }
  }

  asio::awaitable<std::optional<ClientError>> write(std::string_view data, Stage at,
                                                    std::chrono::milliseconds timeout) {
    stage = at;
    if (!conn) co_return failure(ClientErrorKind::connection_lost, at, "not connected");
    std::error_code ec;
    conn->expires_after(timeout);
    co_await conn->write(data, ec);
    conn->cancel_deadline();
    if (ec) {
      if (conn->timed_out()) co_return failure(ClientErrorKind::timed_out, at, "write timed out");
      co_return failure(ClientErrorKind::connection_lost, at, ec.message());
    }
    co_return std::nullopt;
  }

  // The one check every command line passes before it is written.
  std::optional<ClientError> check_line(std::string_view line, Stage at) {
    if (line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos)
      return std::nullopt;
    return failure(
        ClientErrorKind::invalid_command, at,
        "refusing to send a " + std::string(to_string(at)) + " command containing CR, LF or NUL");
  }

  // MAIL and every RCPT as one pipelined batch, each line checked.
  std::optional<ClientError> envelope_batch(std::string_view sender, const MailParams& params,
                                            const std::vector<RcptTo>& recipients,
                                            std::string& batch) {
    std::string line =
        "MAIL FROM:<" + std::string(sender) + ">" + format_mail_params(params, offered());
    if (auto err = check_line(line, Stage::mail)) return err;
    batch = line + "\r\n";
    for (const auto& r : recipients) {
      line = "RCPT TO:<" + r.recipient + ">" + format_rcpt_params(r.params, offered());
      if (auto err = check_line(line, Stage::rcpt)) return err;
      batch += line + "\r\n";
    }
    return std::nullopt;
  }

  asio::awaitable<ClientResult<Reply>> command(std::string line, Stage at,
                                               std::chrono::milliseconds timeout) {
    if (auto err = check_line(line, at)) co_return fail(std::move(*err));
    line += "\r\n";
    if (auto err = co_await write(line, at, timeout)) co_return fail(std::move(*err));
    co_return co_await read_reply(at, timeout);
  }

  asio::awaitable<ClientResult<Reply>> ehlo_or_helo() {
    auto reply = co_await command("EHLO " + options.helo_name, Stage::helo, options.timeouts.helo);
    if (!reply) co_return reply;
    if (reply->positive()) {
      caps = parse_capabilities(*reply);
      co_return reply;
    }
    if (!reply->permanent()) co_return reply;
    caps = Capabilities{};
    co_return co_await command("HELO " + options.helo_name, Stage::helo, options.timeouts.helo);
  }

  asio::awaitable<ClientResult<Reply>> starttls(const Reply& ehlo) {
    const bool required = options.tls == TlsPolicy::required;
    if (!caps.starttls) {
      if (required)
        co_return fail(
            failure(ClientErrorKind::tls_failed, Stage::starttls, "STARTTLS not offered"));
      co_return ehlo;
    }
    auto reply = co_await command("STARTTLS", Stage::starttls, options.timeouts.starttls);
    if (!reply) co_return reply;
    if (reply->code != 220) {
      if (required)
        co_return fail(failure(ClientErrorKind::tls_failed, Stage::starttls,
                               "STARTTLS refused: " + reply->wire()));
      co_return ehlo;
    }
    // Anything the server sent after its 220 arrived in plaintext: never trust it.
    in.clear();
    if (!options.tls_context) {
      options.tls_context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      options.tls_context->set_options(asio::ssl::context::no_tlsv1 |
                                       asio::ssl::context::no_tlsv1_1);
      options.tls_context->set_verify_mode(asio::ssl::verify_none);
    }
    std::error_code ec;
    conn->expires_after(options.timeouts.starttls);
    co_await conn->handshake(*options.tls_context, asio::ssl::stream_base::client,
                             options.tls_server_name, ec);
    conn->cancel_deadline();
    if (ec) {
      co_return fail(failure(
          ClientErrorKind::tls_failed, Stage::starttls,
          conn->timed_out() ? "TLS handshake timed out" : "TLS handshake failed: " + ec.message()));
    }
    caps = Capabilities{};
    co_return co_await ehlo_or_helo();
  }
};

Result<std::shared_ptr<asio::ssl::context>, std::string> make_verifying_client_tls_context(
    const std::string& ca_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  context->set_verify_mode(asio::ssl::verify_peer);
  std::error_code ec;
  if (ca_file.empty())
    context->set_default_verify_paths(ec);
  else
    context->load_verify_file(ca_file, ec);
  if (ec)
    return fail((ca_file.empty() ? std::string("the system CA store") : ca_file) + ": " +
                ec.message());
  return context;
}

ClientSession::ClientSession(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(executor, std::move(options))) {}

ClientSession::~ClientSession() {
  close();
}

asio::awaitable<ClientResult<Reply>> ClientSession::connect(asio::ip::tcp::endpoint server) {
  Impl& s = *impl_;
  s.in.clear();
  s.caps = Capabilities{};
  s.conn = std::make_shared<Connection>(asio::ip::tcp::socket(s.executor));
  s.stage = Stage::connect;
  s.conn->expires_after(s.options.timeouts.connect);
  auto [ec] = co_await s.conn->socket().async_connect(server, use_tuple);
  s.conn->cancel_deadline();
  if (ec) {
    std::string detail = s.conn->timed_out() ? "connect timed out" : ec.message();
    co_return fail(s.failure(ClientErrorKind::connect_failed, Stage::connect, detail));
  }
  co_return co_await s.read_reply(Stage::greeting, s.options.timeouts.greeting);
}

asio::awaitable<ClientResult<Reply>> ClientSession::hello() {
  Impl& s = *impl_;
  auto reply = co_await s.ehlo_or_helo();
  if (!reply || !reply->positive() || s.options.tls == TlsPolicy::none || s.conn->tls())
    co_return reply;
  if (!s.caps.esmtp && s.options.tls == TlsPolicy::required)
    co_return fail(
        s.failure(ClientErrorKind::tls_failed, Stage::starttls, "server does not speak ESMTP"));
  co_return co_await s.starttls(*reply);
}

asio::awaitable<ClientResult<Reply>> ClientSession::mail(std::string_view sender,
                                                         const MailParams& params) {
  Impl& s = *impl_;
  co_return co_await s.command(
      "MAIL FROM:<" + std::string(sender) + ">" + format_mail_params(params, s.offered()),
      Stage::mail, s.options.timeouts.mail);
}

asio::awaitable<ClientResult<Reply>> ClientSession::rcpt(std::string_view recipient,
                                                         const RcptParams& params) {
  Impl& s = *impl_;
  co_return co_await s.command(
      "RCPT TO:<" + std::string(recipient) + ">" + format_rcpt_params(params, s.offered()),
      Stage::rcpt, s.options.timeouts.rcpt);
}

asio::awaitable<ClientResult<Reply>> ClientSession::mail(std::string_view sender) {
  const MailParams none;
  co_return co_await mail(sender, none);
}

asio::awaitable<ClientResult<Reply>> ClientSession::rcpt(std::string_view recipient) {
  const RcptParams none;
  co_return co_await rcpt(recipient, none);
}

asio::awaitable<ClientResult<ClientSession::EnvelopeReplies>> ClientSession::envelope(
    std::string_view sender, const MailParams& params, const std::vector<RcptTo>& recipients) {
  Impl& s = *impl_;
  EnvelopeReplies out;
  if (!(s.caps.pipelining && s.options.pipelining)) {
    auto m = co_await mail(sender, params);
    if (!m) co_return fail(m.error());
    out.mail = std::move(*m);
    if (!out.mail.positive()) co_return out;
    for (const auto& r : recipients) {
      auto reply = co_await rcpt(r.recipient, r.params);
      if (!reply) co_return fail(reply.error());
      out.rcpt.push_back(std::move(*reply));
    }
    co_return out;
  }
  std::string batch;
  if (auto err = s.envelope_batch(sender, params, recipients, batch))
    co_return fail(std::move(*err));
  if (auto err = co_await s.write(batch, Stage::mail, s.options.timeouts.mail))
    co_return fail(std::move(*err));
  auto m = co_await s.read_reply(Stage::mail, s.options.timeouts.mail);
  if (!m) co_return fail(m.error());
  out.mail = std::move(*m);
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    auto reply = co_await s.read_reply(Stage::rcpt, s.options.timeouts.rcpt);
    if (!reply) co_return fail(reply.error());
    out.rcpt.push_back(std::move(*reply));
  }
  co_return out;
}

asio::awaitable<ClientResult<Reply>> ClientSession::data_begin() {
  Impl& s = *impl_;
  co_return co_await s.command("DATA", Stage::data, s.options.timeouts.data);
}

asio::awaitable<ClientResult<Reply>> ClientSession::data_send(std::string_view message) {
  Impl& s = *impl_;
  std::string encoded = encode_data(message);
  if (auto err = co_await s.write(encoded, Stage::data_end, s.options.timeouts.data_end))
    co_return fail(std::move(*err));
  co_return co_await s.read_reply(Stage::data_end, s.options.timeouts.data_end);
}

asio::awaitable<ClientResult<Reply>> ClientSession::data(std::string_view message) {
  auto begin = co_await data_begin();
  if (!begin || begin->code != 354) co_return begin;
  co_return co_await data_send(message);
}

asio::awaitable<ClientResult<Reply>> ClientSession::rset() {
  Impl& s = *impl_;
  co_return co_await s.command("RSET", Stage::rset, s.options.timeouts.mail);
}

asio::awaitable<ClientResult<std::optional<Reply>>> ClientSession::xforward(
    const std::vector<XforwardAttribute>& attributes) {
  Impl& s = *impl_;
  std::optional<Reply> last;
  for (auto& line : format_xforward(attributes, s.caps.xforward)) {
    auto reply = co_await s.command(std::move(line), Stage::xforward, s.options.timeouts.mail);
    if (!reply) co_return fail(reply.error());
    last = *reply;
    if (!last->positive()) break;
  }
  co_return last;
}

asio::awaitable<ClientResult<ClientSession::ForwardedMail>> ClientSession::xforward_and_mail(
    const std::vector<XforwardAttribute>& attributes, std::string_view sender,
    const MailParams& params) {
  Impl& s = *impl_;
  ForwardedMail out;
  if (!(s.caps.pipelining && s.options.pipelining)) {
    auto forwarded = co_await xforward(attributes);
    if (!forwarded) co_return fail(forwarded.error());
    out.xforward = std::move(*forwarded);
    auto mailed = co_await mail(sender, params);
    if (!mailed) co_return fail(mailed.error());
    out.mail = std::move(*mailed);
    co_return out;
  }
  const auto lines = format_xforward(attributes, s.caps.xforward);
  std::string batch;
  for (const auto& line : lines) {
    if (auto err = s.check_line(line, Stage::xforward)) co_return fail(std::move(*err));
    batch += line + "\r\n";
  }
  const std::string mail_line =
      "MAIL FROM:<" + std::string(sender) + ">" + format_mail_params(params, s.offered());
  if (auto err = s.check_line(mail_line, Stage::mail)) co_return fail(std::move(*err));
  batch += mail_line + "\r\n";
  const auto first = lines.empty() ? Stage::mail : Stage::xforward;
  if (auto err = co_await s.write(batch, first, s.options.timeouts.mail))
    co_return fail(std::move(*err));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto reply = co_await s.read_reply(Stage::xforward, s.options.timeouts.mail);
    if (!reply) co_return fail(reply.error());
    out.xforward = std::move(*reply);
  }
  auto mailed = co_await s.read_reply(Stage::mail, s.options.timeouts.mail);
  if (!mailed) co_return fail(mailed.error());
  out.mail = std::move(*mailed);
  co_return out;
}

asio::awaitable<ClientResult<Reply>> ClientSession::quit() {
  Impl& s = *impl_;
  auto reply = co_await s.command("QUIT", Stage::quit, s.options.timeouts.quit);
  close();
  co_return reply;
}

void ClientSession::close() {
  if (impl_->conn) impl_->conn->close();
}

const Capabilities& ClientSession::capabilities() const {
  return impl_->caps;
}
bool ClientSession::tls_active() const {
  return impl_->conn && impl_->conn->tls();
}
Stage ClientSession::stage() const {
  return impl_->stage;
}

namespace {

DeliveryResult from_error(const ClientError& e) {
  DeliveryResult r;
  r.stage = e.stage;
  r.detail = e.detail;
  switch (e.kind) {
    case ClientErrorKind::connect_failed:
      r.outcome = DeliveryOutcome::connect_failed;
      break;
    case ClientErrorKind::timed_out:
      r.outcome = DeliveryOutcome::timed_out;
      break;
    case ClientErrorKind::tls_failed:
      r.outcome = DeliveryOutcome::tls_failed;
      break;
    case ClientErrorKind::connection_lost:
      // Like Postfix: a lost session is a deferral, reported with a local reply.
      r.outcome = DeliveryOutcome::transient;
      r.reply = Reply::make(
          421, "4.4.2",
          "Connection lost during " + std::string(to_string(e.stage)) + ": " + e.detail);
      break;
    case ClientErrorKind::protocol_error:
      r.outcome = DeliveryOutcome::transient;
      r.reply =
          Reply::make(451, "4.5.0", "Malformed reply during " + std::string(to_string(e.stage)));
      break;
    case ClientErrorKind::invalid_command:
      // No retry can make such an envelope sendable.
      r.outcome = DeliveryOutcome::permanent;
      r.reply = e.stage == Stage::mail   ? Reply::make(553, "5.1.7", "Bad sender address syntax")
                : e.stage == Stage::rcpt ? Reply::make(553, "5.1.3", "Bad recipient address syntax")
                                         : Reply::make(501, "5.5.2", "Bad command syntax");
      break;
  }
  return r;
}

DeliveryResult from_reply(const Reply& reply, Stage stage) {
  DeliveryResult r;
  r.stage = stage;
  r.reply = reply;
  r.outcome = reply.permanent() ? DeliveryOutcome::permanent : DeliveryOutcome::transient;
  if (reply.positive()) {
    // A positive reply where another was due (e.g. 250 to DATA): the
    // conversation is out of step.
    r.reply = Reply::make(
        451, "4.5.0",
        "Unexpected reply during " + std::string(to_string(stage)) + ": " + reply.text());
  }
  return r;
}

// Polite QUIT after a reply-level outcome (it never changes the result),
// then close. A free coroutine rather than a lambda: GCC 12 mishandles
// coroutine lambdas.
asio::awaitable<DeliveryResult> finish_delivery(ClientSession& session, DeliveryResult r) {
  r.tls = session.tls_active();
  const bool replied = r.outcome == DeliveryOutcome::ok ||
                       r.outcome == DeliveryOutcome::transient ||
                       r.outcome == DeliveryOutcome::permanent;
  if (replied && r.reply.code != 421 && r.detail.empty()) co_await session.quit();
  session.close();
  co_return r;
}

}  // namespace

asio::awaitable<DeliveryResult> deliver(asio::any_io_executor executor,
                                        asio::ip::tcp::endpoint server, ClientOptions options,
                                        DeliveryEnvelope envelope, std::string_view message) {
  ClientSession session(executor, std::move(options));
  auto opened = co_await detail::open_delivery(session, server);
  if (opened) co_return co_await finish_delivery(session, std::move(*opened));
  auto result = co_await detail::deliver_transaction(session, envelope, message, nullptr);
  co_return co_await finish_delivery(session, std::move(result));
}

namespace detail {

asio::awaitable<std::optional<DeliveryResult>> open_delivery(ClientSession& session,
                                                             asio::ip::tcp::endpoint server) {
  auto greeting = co_await session.connect(server);
  if (!greeting) co_return from_error(greeting.error());
  if (greeting->code != 220) co_return from_reply(*greeting, Stage::greeting);
  auto hello = co_await session.hello();
  if (!hello) co_return from_error(hello.error());
  if (!hello->positive()) co_return from_reply(*hello, Stage::helo);
  co_return std::nullopt;
}

asio::awaitable<DeliveryResult> deliver_transaction(ClientSession& session,
                                                    const DeliveryEnvelope& envelope,
                                                    std::string_view message, bool* stale) {
  DeliveryResult result;
  auto env = co_await session.envelope(envelope.sender, envelope.params, envelope.recipients);
  if (!env) {
    // No reply at all to the first commands of a session that sat idle:
    // the server closed it meanwhile; nothing was delivered.
    const auto kind = env.error().kind;
    if (stale && (kind == ClientErrorKind::connection_lost || kind == ClientErrorKind::timed_out ||
                  kind == ClientErrorKind::protocol_error))
      *stale = true;
    co_return from_error(env.error());
  }
  if (!env->mail.positive()) {
    // A 421 waiting in a parked session: the server timed it out (and closed).
    if (stale && env->mail.code == 421) *stale = true;
    co_return from_reply(env->mail, Stage::mail);
  }
  std::size_t accepted = 0;
  const Reply* first_transient = nullptr;
  const Reply* first_permanent = nullptr;
  for (std::size_t i = 0; i < env->rcpt.size(); ++i) {
    const Reply& r = env->rcpt[i];
    result.recipients.push_back({envelope.recipients[i].recipient, r});
    if (r.positive()) ++accepted;
    if (r.transient() && !first_transient) first_transient = &r;
    if (r.permanent() && !first_permanent) first_permanent = &r;
  }
  if (accepted == 0) {
    DeliveryResult r = first_transient ? from_reply(*first_transient, Stage::rcpt)
                       : first_permanent
                           ? from_reply(*first_permanent, Stage::rcpt)
                           : from_reply(Reply::make(554, "5.5.1", "No recipients"), Stage::rcpt);
    r.recipients = result.recipients;
    co_return r;
  }

  auto begin = co_await session.data_begin();
  if (!begin) co_return from_error(begin.error());
  if (begin->code != 354) {
    DeliveryResult r = from_reply(*begin, Stage::data);
    r.recipients = result.recipients;
    co_return r;
  }
  auto final_reply = co_await session.data_send(message);
  if (!final_reply) co_return from_error(final_reply.error());
  if (final_reply->code / 100 != 2) {
    DeliveryResult r = from_reply(*final_reply, Stage::data_end);
    r.recipients = result.recipients;
    co_return r;
  }
  result.outcome = DeliveryOutcome::ok;
  result.stage = Stage::data_end;
  result.reply = std::move(*final_reply);
  result.tls = session.tls_active();
  co_return result;
}

asio::awaitable<DeliveryResult> finish(ClientSession& session, DeliveryResult result) {
  co_return co_await finish_delivery(session, std::move(result));
}

}  // namespace detail

asio::awaitable<DeliveryResult> deliver_to_host(const asio::any_io_executor& executor,
                                                const std::string& host, std::uint16_t port,
                                                const ClientOptions& options,
                                                const DeliveryEnvelope& envelope,
                                                std::string_view message) {
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    const asio::ip::tcp::endpoint server(address, port);
    co_return co_await deliver(executor, server, options, envelope, message);
  }
  asio::ip::tcp::resolver resolver(executor);
  auto [rec, results] = co_await resolver.async_resolve(
      host, std::to_string(port), asio::experimental::as_tuple(asio::use_awaitable));
  if (rec || results.empty()) {
    DeliveryResult r;
    r.outcome = DeliveryOutcome::connect_failed;
    r.detail = "cannot resolve " + host + ": " + (rec ? rec.message() : "no address");
    co_return r;
  }
  const asio::ip::tcp::endpoint server = results.begin()->endpoint();
  co_return co_await deliver(executor, server, options, envelope, message);
}

}  // namespace cordon::smtp
