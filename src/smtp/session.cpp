// The server session state machine. States change only in set_state(); each
// verb is split into check_*() (sequence and limits; returns the refusal) and
// proceed_*() (consults the handler and acts). Replies are queued and flushed
// whenever the session is about to wait for input, which gives RFC 2920
// pipelining its batching for free. Every wait for input or output is
// bounded by its own timeout and by what is left of the session's (and,
// inside DATA, the DATA phase's) wall-clock allowance.
#include "smtp/detail/session.hpp"

#include <spdlog/spdlog.h>

#include "smtp/data_codec.hpp"
#include "smtp/detail/connection.hpp"

namespace cordon::smtp {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;  // at most this much per read
constexpr std::size_t kKeepOutput = 1024;      // reply buffer kept between replies

using Clock = std::chrono::steady_clock;

enum class State {
  connected,  // greeting sent, no EHLO/HELO yet
  greeted,    // EHLO/HELO accepted, no transaction
  mail,       // MAIL accepted
  rcpt,       // at least one RCPT accepted
  rejected,   // greeting was 554: only QUIT is served
  closing,    // the session ends after flushing
};

enum class ReadStatus {
  ok,
  too_long,
  bare_newline,
  closed,
  timed_out,        // idle_timeout / data_timeout
  session_expired,  // max_session_time
  data_expired,     // max_data_time
};

// Which bound an armed deadline stands for.
enum class Bound { step, session, data };

bool has_non_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

bool has_dsn_params(const MailParams& p) {
  return p.ret != DsnRet::unspecified || !p.envid.empty();
}

class Session {
 public:
  Session(std::shared_ptr<ServerShared> shared, asio::ip::tcp::socket socket)
      : shared_(std::move(shared)),
        limits_(shared_->options.limits),
        conn_(std::make_shared<Connection>(std::move(socket))),
        handler_(shared_->factory()) {
    std::error_code ec;
    info_.client = conn_->socket().remote_endpoint(ec);
    info_.local = conn_->socket().local_endpoint(ec);
    info_.server_name = shared_->options.hostname;
    info_.id = shared_->id_prefix + std::to_string(++shared_->next_session);
    if (limits_.max_session_time.count() > 0)
      session_deadline_ = Clock::now() + limits_.max_session_time;
  }

  asio::awaitable<void> run() {
    spdlog::debug("smtp session {} from {}", info_.id, info_.client.address().to_string());
    co_await greet();
    while (state_ != State::closing) {
      std::string line;
      ReadStatus status = co_await read_command(line);
      if (status == ReadStatus::closed) break;
      if (status == ReadStatus::timed_out || status == ReadStatus::session_expired) {
        queue_reply(expiry_reply(status));
        set_state(State::closing);
        break;
      }
      if (shared_->shutting_down) {
        queue_reply(Reply::make(421, "4.3.2", info_.server_name + " Service shutting down"));
        set_state(State::closing);
        break;
      }
      if (status == ReadStatus::too_long) {
        co_await reply_error(Reply::make(501, "5.5.2", "Line too long"));
      } else if (status == ReadStatus::bare_newline) {
        co_await reply_error(
            Reply::make(500, "5.5.2", "Syntax error, command must end with <CR><LF>"));
      } else {
        co_await dispatch(line);
      }
    }
    co_await flush();
    if (state_ == State::mail || state_ == State::rcpt) co_await handler_->on_rset(info_);
    co_await handler_->on_disconnect(info_);
    conn_->close();
    spdlog::debug("smtp session {} closed", info_.id);
  }

 private:
  // ---- state -----------------------------------------------------------
  void set_state(State next) {
    if (next == State::greeted || next == State::connected || next == State::closing) {
      if (next != State::closing) {
        info_.mail.reset();
        info_.recipients.clear();
        // XFORWARD_README: the forwarded attributes end with the transaction.
        info_.forwarded.reset();
      }
    }
    state_ = next;
  }

  bool in_transaction() const { return state_ == State::mail || state_ == State::rcpt; }

  // Ends a transaction that the client abandons (RSET, EHLO, STARTTLS).
  asio::awaitable<void> reset_transaction(State next) {
    const bool had = in_transaction();
    set_state(next);
    if (had) co_await handler_->on_rset(info_);
  }

  // ---- deadlines -------------------------------------------------------
  // Arms the connection's deadline for one wait: the step's own timeout, or
  // what is left of the session or DATA allowance when that comes first.
  void arm(std::chrono::milliseconds step) {
    const auto now = Clock::now();
    std::chrono::milliseconds timeout = step;
    armed_ = Bound::step;
    auto consider = [&](const std::optional<Clock::time_point>& deadline, Bound bound) {
      if (!deadline) return;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now);
      left = std::max(left, std::chrono::milliseconds(0));
      if (left < timeout) {
        timeout = left;
        armed_ = bound;
      }
    };
    consider(session_deadline_, Bound::session);
    consider(data_deadline_, Bound::data);
    conn_->expires_after(timeout);
  }

  // The allowance already used up (checked before waiting, so a client that
  // always has input ready cannot outrun the timer), or nullopt.
  std::optional<ReadStatus> expired() const {
    const auto now = Clock::now();
    if (session_deadline_ && now >= *session_deadline_) return ReadStatus::session_expired;
    if (data_deadline_ && now >= *data_deadline_) return ReadStatus::data_expired;
    return std::nullopt;
  }

  ReadStatus timeout_status() const {
    switch (armed_) {
      case Bound::session:
        return ReadStatus::session_expired;
      case Bound::data:
        return ReadStatus::data_expired;
      case Bound::step:
        break;
    }
    return ReadStatus::timed_out;
  }

  // The 421 for a timeout or an exhausted allowance; counts it.
  Reply expiry_reply(ReadStatus status) {
    switch (status) {
      case ReadStatus::session_expired:
        ++shared_->counters.session_time_exceeded;
        return Reply::make(421, "4.4.2", info_.server_name + " Error: session time limit exceeded");
      case ReadStatus::data_expired:
        ++shared_->counters.data_time_exceeded;
        return Reply::make(421, "4.4.2", info_.server_name + " Error: DATA time limit exceeded");
      default:
        ++shared_->counters.timeouts;
        return Reply::make(421, "4.4.2", info_.server_name + " Error: timeout exceeded");
    }
  }

  // ---- output ----------------------------------------------------------
  void queue_reply(const Reply& reply) { out_ += reply.wire(); }

  asio::awaitable<bool> flush() {
    if (out_.empty()) co_return true;
    std::error_code ec;
    // Bounded by write_timeout alone, so the 421 that ends an exhausted
    // session still goes out (reading is where the session time is kept).
    conn_->expires_after(limits_.write_timeout);
    co_await conn_->write(out_, ec);
    conn_->cancel_deadline();
    // An idle session keeps no large reply buffer.
    if (out_.capacity() > kKeepOutput) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    if (ec) set_state(State::closing);
    co_return !ec;
  }

  // An error reply counts towards max_errors; the one that reaches the limit
  // is replaced by 421 and the session ends (Postfix's hard error limit).
  asio::awaitable<void> reply_error(const Reply& reply) {
    if (++errors_ >= limits_.max_errors) {
      ++shared_->counters.too_many_errors;
      queue_reply(Reply::make(421, "4.7.0", info_.server_name + " Error: too many errors"));
      set_state(State::closing);
      co_return;
    }
    queue_reply(reply);
  }

  asio::awaitable<void> send(const Reply& reply) {
    if (reply.code >= 400) {
      co_await reply_error(reply);
    } else {
      queue_reply(reply);
    }
  }

  // ---- input -----------------------------------------------------------
  asio::awaitable<bool> fill(std::chrono::milliseconds timeout, ReadStatus& status) {
    if (!co_await flush()) {
      status = ReadStatus::closed;
      co_return false;
    }
    if (auto spent = expired()) {
      status = *spent;
      co_return false;
    }
    std::error_code ec;
    arm(timeout);
    std::size_t n = co_await conn_->read_into(in_, kReadChunk, ec);
    conn_->cancel_deadline();
    if (ec || n == 0) {
      status = conn_->timed_out() ? timeout_status() : ReadStatus::closed;
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<ReadStatus> read_command(std::string& line) {
    bool discarding = false;  // inside an over-long line, waiting for its end
    ReadStatus status = ReadStatus::ok;
    while (true) {
      std::string_view pending = in_.view();
      std::size_t lf = pending.find('\n');
      if (lf != std::string_view::npos) {
        std::size_t length = lf + 1;
        bool crlf = lf > 0 && pending[lf - 1] == '\r';
        if (!discarding) line.assign(pending.substr(0, length - (crlf ? 2 : 1)));
        in_.consume(length);
        if (discarding || length > limits_.max_command_line) co_return ReadStatus::too_long;
        co_return crlf ? ReadStatus::ok : ReadStatus::bare_newline;
      }
      if (pending.size() > limits_.max_command_line) {
        discarding = true;
        in_.clear();
      }
      if (!co_await fill(limits_.idle_timeout, status)) co_return status;
    }
  }

  // ---- conversation ----------------------------------------------------
  asio::awaitable<void> greet() {
    std::optional<Reply> verdict = co_await handler_->on_connect(info_);
    if (!verdict) {
      queue_reply(Reply::make(220, "", info_.server_name + " ESMTP cordon"));
      co_return;
    }
    queue_reply(*verdict);
    if (verdict->code == 421) {
      set_state(State::closing);
    } else if (!verdict->positive()) {
      set_state(State::rejected);
    }
  }

  asio::awaitable<void> dispatch(const std::string& line) {
    auto parsed = parse_command(line);
    if (state_ == State::rejected) {
      if (parsed && parsed->verb == Verb::quit) {
        co_await proceed_quit();
      } else {
        co_await reply_error(
            Reply::make(503, "5.5.1", "Error: this server refused the connection"));
      }
      co_return;
    }
    if (!parsed) {
      co_await reply_error(parsed.error().reply);
      co_return;
    }
    Command& cmd = *parsed;
    switch (cmd.verb) {
      case Verb::ehlo:
      case Verb::helo:
        co_await proceed_hello(cmd);
        break;
      case Verb::mail:
        if (auto refusal = check_mail(cmd)) {
          co_await reply_error(*refusal);
        } else {
          co_await proceed_mail(cmd);
        }
        break;
      case Verb::rcpt:
        if (auto refusal = check_rcpt(cmd)) {
          co_await reply_error(*refusal);
        } else if (info_.recipients.size() >= limits_.max_recipients) {
          // RFC 5321 4.5.3.1.8: the client may send the message to the
          // recipients accepted so far, so this 452 is no client error and
          // never ends the session (the session time limit bounds a client
          // that keeps trying).
          ++shared_->counters.recipients_over_limit;
          queue_reply(Reply::make(452, "4.5.3", "Error: too many recipients"));
        } else {
          co_await proceed_rcpt(cmd);
        }
        break;
      case Verb::data:
        if (auto refusal = check_data()) {
          co_await reply_error(*refusal);
        } else {
          co_await proceed_data();
        }
        break;
      case Verb::rset:
        co_await reset_transaction(state_ == State::connected ? State::connected : State::greeted);
        queue_reply(Reply::make(250, "2.0.0", "OK"));
        break;
      case Verb::noop:
        queue_reply(Reply::make(250, "2.0.0", "OK"));
        break;
      case Verb::quit:
        co_await proceed_quit();
        break;
      case Verb::vrfy:
        queue_reply(Reply::make(252, "2.5.0",
                                "Cannot VRFY user, but will accept message and attempt delivery"));
        break;
      case Verb::help:
        queue_reply(Reply::make(
            214, "2.0.0",
            "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS XFORWARD"));
        break;
      case Verb::starttls:
        if (auto refusal = check_starttls()) {
          co_await reply_error(*refusal);
        } else {
          co_await proceed_starttls();
        }
        break;
      case Verb::xforward:
        if (auto refusal = check_xforward()) {
          co_await reply_error(*refusal);
        } else {
          proceed_xforward(cmd);
        }
        break;
      case Verb::bdat:
      case Verb::expn:
        break;  // the parser refuses these
    }
  }

  asio::awaitable<void> proceed_hello(const Command& cmd) {
    std::optional<Reply> refusal = co_await handler_->on_helo(info_, cmd.argument);
    if (refusal) {
      co_await send(*refusal);
      co_return;
    }
    co_await reset_transaction(State::greeted);
    info_.helo_name = cmd.argument;
    info_.esmtp = cmd.verb == Verb::ehlo;
    if (!info_.esmtp) {
      queue_reply(Reply::make(250, "", info_.server_name));
      co_return;
    }
    std::vector<std::string> lines{info_.server_name,
                                   "PIPELINING",
                                   "SIZE " + std::to_string(limits_.max_message_size),
                                   "8BITMIME",
                                   "ENHANCEDSTATUSCODES",
                                   "SMTPUTF8"};
    if (shared_->options.tls && !conn_->tls()) lines.push_back("STARTTLS");
    if (xforward_allowed()) lines.push_back("XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE");
    lines.push_back("DSN");
    queue_reply(Reply::multiline(250, "", lines));
  }

  std::optional<Reply> check_mail(const Command& cmd) const {
    if (state_ == State::connected) return Reply::make(503, "5.5.1", "Error: send HELO/EHLO first");
    if (in_transaction()) return Reply::make(503, "5.5.1", "Error: nested MAIL command");
    if (shared_->options.require_tls && shared_->options.tls && !conn_->tls())
      return Reply::make(530, "5.7.0", "Must issue a STARTTLS command first");
    const MailParams& p = cmd.mail;
    const bool extended = p.size || p.body != Body::unspecified || p.smtputf8 || has_dsn_params(p);
    if (extended && !info_.esmtp) return Reply::make(555, "5.5.4", "Parameters need EHLO");
    if (p.size && *p.size > limits_.max_message_size)
      return Reply::make(552, "5.3.4", "Message size exceeds fixed limit");
    if (has_non_ascii(cmd.address) && !p.smtputf8)
      return Reply::make(553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
    return std::nullopt;
  }

  asio::awaitable<void> proceed_mail(const Command& cmd) {
    MailFrom mail{cmd.address, cmd.mail};
    Reply reply = co_await handler_->on_mail(info_, mail);
    if (reply.positive()) {
      set_state(State::mail);
      info_.mail = std::move(mail);
    }
    co_await send(reply);
  }

  std::optional<Reply> check_rcpt(const Command& cmd) const {
    if (!in_transaction()) return Reply::make(503, "5.5.1", "Error: need MAIL command");
    if (!cmd.rcpt.notify.empty() || !cmd.rcpt.orcpt.empty()) {
      if (!info_.esmtp) return Reply::make(555, "5.5.4", "Parameters need EHLO");
    }
    if (has_non_ascii(cmd.address) && !info_.mail->params.smtputf8)
      return Reply::make(553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
    return std::nullopt;
  }

  asio::awaitable<void> proceed_rcpt(const Command& cmd) {
    RcptTo rcpt{cmd.address, cmd.rcpt};
    Reply reply = co_await handler_->on_rcpt(info_, rcpt);
    if (reply.positive()) {
      info_.recipients.push_back(std::move(rcpt));
      set_state(State::rcpt);
    }
    co_await send(reply);
  }

  std::optional<Reply> check_data() const {
    if (state_ == State::mail) return Reply::make(554, "5.5.1", "Error: no valid recipients");
    if (state_ != State::rcpt) return Reply::make(503, "5.5.1", "Error: need RCPT command");
    return std::nullopt;
  }

  asio::awaitable<void> proceed_data() {
    DataStart start = co_await handler_->on_data_begin(info_);
    if (start.reply.code != 354) {
      co_await send(start.reply);
      co_return;
    }
    if (!start.sink) {
      co_await send(Reply::make(451, "4.3.0", "Error: internal error"));
      co_return;
    }
    queue_reply(start.reply);
    if (limits_.max_data_time.count() > 0) data_deadline_ = Clock::now() + limits_.max_data_time;
    DataDecoder decoder(limits_.max_message_size, limits_.max_data_line);
    std::string chunk;
    ReadStatus status = ReadStatus::ok;
    while (true) {
      if (!in_.empty()) {
        std::size_t used = decoder.feed(in_.view(), chunk);
        in_.consume(used);
        if (!chunk.empty() && !decoder.too_big()) co_await start.sink->write(chunk);
        chunk.clear();
        if (decoder.done()) break;
      }
      if (!co_await fill(limits_.data_timeout, status)) break;
    }
    data_deadline_.reset();
    if (!decoder.done()) {
      // Connection lost, timed out or out of time inside DATA: nothing is
      // accepted, and the session cannot find the next command.
      const bool expired = status == ReadStatus::timed_out ||
                           status == ReadStatus::session_expired ||
                           status == ReadStatus::data_expired;
      Reply reason = expired
                         ? expiry_reply(status)
                         : Reply::make(421, "4.4.2", info_.server_name + " Error: connection lost");
      if (expired) queue_reply(reason);
      co_await handler_->on_data_abort(info_, reason);
      set_state(State::closing);
      co_return;
    }
    std::optional<Reply> refusal;
    if (decoder.too_big()) {
      refusal = Reply::make(552, "5.3.4", "Message size exceeds fixed limit");
    } else if (decoder.bare_newline()) {
      refusal = Reply::make(
          550, "5.6.11", "Message contains bare <CR> or <LF>; only <CR><LF> line ends are allowed");
    } else if (decoder.line_too_long()) {
      refusal = Reply::make(550, "5.6.0", "Message line too long");
    }
    if (refusal) {
      co_await handler_->on_data_abort(info_, *refusal);
      set_state(State::greeted);
      co_await reply_error(*refusal);
      co_return;
    }
    Reply reply = co_await handler_->on_data_end(info_, decoder.size());
    ++info_.messages;
    set_state(State::greeted);
    co_await send(reply);
  }

  std::optional<Reply> check_starttls() const {
    if (!shared_->options.tls) return Reply::make(502, "5.5.1", "STARTTLS is not offered");
    if (conn_->tls()) return Reply::make(503, "5.5.1", "Error: TLS already active");
    if (state_ == State::connected) return Reply::make(503, "5.5.1", "Error: send EHLO first");
    if (in_transaction()) return Reply::make(503, "5.5.1", "Error: MAIL transaction in progress");
    return std::nullopt;
  }

  asio::awaitable<void> proceed_starttls() {
    // CVE-2011-0411: anything the client pipelined after STARTTLS arrived in
    // plaintext and must not be executed inside the TLS session.
    if (!in_.empty()) {
      spdlog::info("smtp session {}: discarded {} octets pipelined after STARTTLS", info_.id,
                   in_.size());
    }
    in_.clear();
    queue_reply(Reply::make(220, "2.0.0", "Ready to start TLS"));
    if (!co_await flush()) co_return;
    std::error_code ec;
    arm(limits_.tls_timeout);
    co_await conn_->handshake(*shared_->options.tls, asio::ssl::stream_base::server, "", ec);
    conn_->cancel_deadline();
    if (ec) {
      spdlog::info("smtp session {}: TLS handshake failed: {}", info_.id, ec.message());
      set_state(State::closing);
      co_return;
    }
    // RFC 3207 4.2: forget everything learnt before TLS, EHLO again.
    co_await reset_transaction(State::connected);
    info_.helo_name.clear();
    info_.esmtp = false;
    info_.tls = true;
    info_.tls_protocol = conn_->tls_protocol();
    info_.tls_cipher = conn_->tls_cipher();
  }

  bool xforward_allowed() const {
    const auto& allowed = shared_->options.xforward_allowed;
    return allowed && allowed(info_.client.address());
  }

  std::optional<Reply> check_xforward() const {
    if (!xforward_allowed()) return Reply::make(550, "5.7.0", "Error: insufficient authorization");
    if (state_ == State::connected) return Reply::make(503, "5.5.1", "Error: send EHLO first");
    if (in_transaction()) return Reply::make(503, "5.5.1", "Error: MAIL transaction in progress");
    return std::nullopt;
  }

  // The first XFORWARD of a transaction starts from "all unavailable"; each
  // further one updates what it names.
  void proceed_xforward(const Command& cmd) {
    if (!info_.forwarded) info_.forwarded.emplace();
    Forwarded& f = *info_.forwarded;
    for (const auto& a : cmd.xforward) {
      std::string* field = a.name == "NAME"    ? &f.name
                           : a.name == "ADDR"  ? &f.addr
                           : a.name == "PORT"  ? &f.port
                           : a.name == "PROTO" ? &f.proto
                           : a.name == "HELO"  ? &f.helo
                           : a.name == "IDENT" ? &f.ident
                                               : &f.source;
      *field = a.value;
    }
    queue_reply(Reply::make(250, "2.0.0", "Ok"));
  }

  asio::awaitable<void> proceed_quit() {
    queue_reply(Reply::make(221, "2.0.0", "Bye"));
    co_await reset_transaction(State::closing);
  }

  std::shared_ptr<ServerShared> shared_;
  const ServerLimits& limits_;
  std::shared_ptr<Connection> conn_;
  std::unique_ptr<Handler> handler_;
  SessionInfo info_;
  State state_ = State::connected;
  std::size_t errors_ = 0;
  ReadBuffer in_;
  std::string out_;
  std::optional<Clock::time_point> session_deadline_;
  std::optional<Clock::time_point> data_deadline_;  // inside DATA only
  Bound armed_ = Bound::step;
};

}  // namespace

asio::awaitable<void> run_session(std::shared_ptr<ServerShared> shared,
                                  asio::ip::tcp::socket socket) {
  try {
    Session session(shared, std::move(socket));
    co_await session.run();
  } catch (const std::exception& e) {
    spdlog::error("smtp session failed: {}", e.what());
  }
  --shared->sessions;
}

}  // namespace cordon::smtp
