// The prevent session handler (see prevent_session.hpp): MAIL and RCPT are
// mirrored onto the next hop as they arrive, the content is buffered, and
// at end of data the decision is made on the worker pool; the upstream's
// final reply is the next hop's (or the block reply) and is sent only once
// the next hop has answered.
#include "roles/prevent/prevent_session.hpp"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <utility>

#include "roles/prevent/prevent_message.hpp"
#include "smtp/reply.hpp"

namespace cordon::roles::prevent {

namespace {
constexpr std::string_view kMessagesHelp =
    "Messages handled by prevent, by result (inspected counts every evaluated message)";
}

PreventMetrics::PreventMetrics(util::Metrics& registry)
    : inspected(
          registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"inspected\"")),
      ignored(
          registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"ignored\"")),
      looped(registry.counter("cordon_prevent_messages_total", kMessagesHelp,
                              "result=\"already_inspected\"")),
      blocked(
          registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"blocked\"")),
      redirected(registry.counter("cordon_prevent_messages_total", kMessagesHelp,
                                  "result=\"redirected\"")),
      modified(
          registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"modified\"")),
      passed(registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"passed\"")),
      deferred(
          registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"deferred\"")),
      refused(
          registry.counter("cordon_prevent_messages_total", kMessagesHelp, "result=\"refused\"")),
      downstream_errors(registry.counter("cordon_prevent_downstream_errors_total",
                                         "Next hop connections or replies that failed")),
      scan_seconds(registry.histogram("cordon_prevent_scan_seconds",
                                      "Time to parse and evaluate one message",
                                      {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5})) {}

std::shared_ptr<const SnapshotPolicy> PreventContext::current_policy() {
  auto config = this->config.get();
  std::lock_guard lock(policy_mutex_);
  if (!policy_ || policy_->config != config) policy_ = make_snapshot_policy(std::move(config));
  return policy_;
}

namespace {

using smtp::Reply;

// Collects the content of one transaction. The session stops writing once
// max_message_size is exceeded (and refuses the message), so the buffer is
// bounded by that limit.
class BufferSink : public smtp::DataSink {
 public:
  explicit BufferSink(std::string& buffer) : buffer_(buffer) {}
  asio::awaitable<void> write(std::string_view chunk) override {
    buffer_.append(chunk);
    co_return;
  }

 private:
  std::string& buffer_;
};

std::string policy_names(const policy::Verdict& verdict) {
  std::string out;
  for (const auto& p : verdict.policies) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

// Runs on a worker thread; the result is handed back to the session's
// executor by co_spawn.
asio::awaitable<Inspection> inspect_on_worker(std::shared_ptr<PreventContext> context,
                                              std::shared_ptr<const InspectInput> input) {
  co_return inspect(*input, context->evaluators, context->store.get());
}

class PreventHandler : public smtp::Handler {
 public:
  explicit PreventHandler(std::shared_ptr<PreventContext> context)
      : context_(std::move(context)), policy_(context_->current_policy()) {}

  asio::awaitable<Reply> on_mail(const smtp::SessionInfo& session,
                                 const smtp::MailFrom& mail) override {
    buffer_.clear();
    // A connection kept from an earlier transaction may have been closed
    // by the next hop while idle: one fresh attempt before giving up.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = static_cast<bool>(downstream_);
      if (auto refusal = co_await ensure_downstream(session)) co_return *refusal;
      auto reply = co_await downstream_->mail(mail.sender, mail.params);
      if (reply) co_return *reply;
      if (!reused) co_return downstream_failed(session, reply.error());
      downstream_.reset();
    }
    co_return unavailable();
  }

  asio::awaitable<Reply> on_rcpt(const smtp::SessionInfo& session,
                                 const smtp::RcptTo& rcpt) override {
    if (!downstream_) co_return unavailable();
    auto reply = co_await downstream_->rcpt(rcpt.recipient, rcpt.params);
    if (!reply) co_return downstream_failed(session, reply.error());
    co_return *reply;
  }

  asio::awaitable<smtp::DataStart> on_data_begin(const smtp::SessionInfo&) override {
    buffer_.clear();
    co_return smtp::DataStart{Reply::make(354, "", "End data with <CR><LF>.<CR><LF>"),
                              std::make_unique<BufferSink>(buffer_)};
  }

  asio::awaitable<Reply> on_data_end(const smtp::SessionInfo& session, std::uint64_t) override {
    auto message = std::make_shared<const std::string>(std::exchange(buffer_, {}));
    if (!downstream_) co_return deferred(unavailable());

    // Built outside any co_await expression: GCC 12 destroys temporaries
    // of aggregates inside one twice.
    auto input = make_input(message, session);
    auto task = inspect_on_worker(context_, input);
    Inspection result =
        co_await asio::co_spawn(context_->workers, std::move(task), asio::use_awaitable);

    Reply reply = co_await act(session, *message, result);
    log_outcome(session, result, reply);
    co_return reply;
  }

  asio::awaitable<void> on_data_abort(const smtp::SessionInfo& session, const Reply&) override {
    buffer_.clear();
    co_await reset_downstream(session);
  }

  asio::awaitable<void> on_rset(const smtp::SessionInfo& session) override {
    co_await reset_downstream(session);
  }

  asio::awaitable<void> on_disconnect(const smtp::SessionInfo&) override {
    if (downstream_) {
      (void)co_await downstream_->quit();
      downstream_.reset();
    }
  }

 private:
  std::shared_ptr<const InspectInput> make_input(std::shared_ptr<const std::string> message,
                                                 const smtp::SessionInfo& session) const {
    auto input = std::make_shared<InspectInput>();
    input->message = std::move(message);
    input->policy = policy_;
    input->envelope = envelope_of(session);
    input->deployment = context_->deployment;
    return input;
  }

  static policy::Envelope envelope_of(const smtp::SessionInfo& session) {
    policy::Envelope envelope;
    if (session.mail) envelope.sender = session.mail->sender;
    for (const auto& r : session.recipients) envelope.recipients.push_back(r.recipient);
    return envelope;
  }

  const config::HostPort& next_hop() const { return policy_->config->prevent->next_hop; }

  Reply unavailable() const {
    return Reply::make(451, "4.4.1", "Next hop not reachable, try again later");
  }

  Reply deferred(Reply reply) {
    context_->metrics.deferred.inc();
    return reply;
  }

  Reply downstream_failed(const smtp::SessionInfo& session, const smtp::ClientError& error) {
    context_->metrics.downstream_errors.inc();
    spdlog::warn("prevent {}: next hop {}: {} at {}: {}", session.id, next_hop().to_string(),
                 error.kind == smtp::ClientErrorKind::timed_out ? "timed out" : "failed",
                 smtp::to_string(error.stage), error.detail);
    downstream_.reset();
    return unavailable();
  }

  asio::awaitable<Result<asio::ip::tcp::endpoint, std::string>> resolve_next_hop() {
    const auto& hop = next_hop();
    std::error_code ec;
    auto address = asio::ip::make_address(hop.host, ec);
    if (!ec) co_return asio::ip::tcp::endpoint(address, hop.port);
    asio::ip::tcp::resolver resolver(context_->io);
    auto found = co_await resolver.async_resolve(hop.host, std::to_string(hop.port),
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec || found.empty()) co_return fail("cannot resolve " + hop.host + ": " + ec.message());
    co_return found.begin()->endpoint();
  }

  // nullopt when a greeted downstream session is ready; otherwise the
  // reply for the upstream.
  asio::awaitable<std::optional<Reply>> ensure_downstream(const smtp::SessionInfo& session) {
    if (downstream_) co_return std::nullopt;
    auto where = co_await resolve_next_hop();
    if (!where) {
      context_->metrics.downstream_errors.inc();
      spdlog::warn("prevent {}: next hop: {}", session.id, where.error());
      co_return unavailable();
    }
    smtp::ClientOptions options;
    options.helo_name = context_->hostname;
    options.timeouts = context_->downstream_timeouts;
    downstream_ = std::make_unique<smtp::ClientSession>(context_->io, options);
    auto greeting = co_await downstream_->connect(*where);
    if (!greeting) co_return downstream_failed(session, greeting.error());
    // GCC 12 mis-destroys a co_await inside a conditional expression: an
    // if statement keeps the temporaries apart.
    std::optional<smtp::ClientResult<Reply>> hello;
    if (greeting->positive()) {
      hello.emplace(co_await downstream_->hello());
    } else {
      hello.emplace(*greeting);
    }
    if (!*hello) co_return downstream_failed(session, hello->error());
    if (!(*hello)->positive()) {
      // A next hop that will not talk to us is a delivery problem to retry,
      // not a verdict on this message.
      context_->metrics.downstream_errors.inc();
      spdlog::warn("prevent {}: next hop {} refused the session: {} {}", session.id,
                   next_hop().to_string(), (*hello)->code, (*hello)->text());
      downstream_.reset();
      co_return unavailable();
    }
    co_return std::nullopt;
  }

  asio::awaitable<void> reset_downstream(const smtp::SessionInfo& session) {
    if (!downstream_) co_return;
    auto reply = co_await downstream_->rset();
    if (!reply) (void)downstream_failed(session, reply.error());
  }

  // Sends `content` as the downstream transaction's DATA and returns the
  // reply the upstream gets.
  asio::awaitable<Reply> relay(const smtp::SessionInfo& session, std::string_view content) {
    auto reply = co_await downstream_->data(content);
    if (!reply) co_return deferred(downstream_failed(session, reply.error()));
    if (reply->transient()) context_->metrics.deferred.inc();
    co_return *reply;
  }

  // Replaces the mirrored transaction by one to the redirect address.
  asio::awaitable<Reply> redirect(const smtp::SessionInfo& session, std::string_view content,
                                  const std::string& address) {
    auto reset = co_await downstream_->rset();
    if (!reset) co_return deferred(downstream_failed(session, reset.error()));
    const smtp::MailParams params = session.mail ? session.mail->params : smtp::MailParams{};
    const std::string sender = session.mail ? session.mail->sender : std::string();
    auto mail = co_await downstream_->mail(sender, params);
    if (!mail) co_return deferred(downstream_failed(session, mail.error()));
    if (!mail->positive()) co_return *mail;
    auto rcpt = co_await downstream_->rcpt(address);
    if (!rcpt) co_return deferred(downstream_failed(session, rcpt.error()));
    if (!rcpt->positive()) {
      co_await reset_downstream(session);
      co_return *rcpt;
    }
    co_return co_await relay(session, content);
  }

  asio::awaitable<Reply> act(const smtp::SessionInfo& session, const std::string& message,
                             const Inspection& result) {
    auto& m = context_->metrics;
    switch (result.disposition) {
      case Disposition::loop:
        m.looped.inc();
        co_return co_await relay(session, message);
      case Disposition::ignored:
        m.ignored.inc();
        co_return co_await relay(session, *result.outgoing);
      case Disposition::unparsable:
        m.refused.inc();
        co_await reset_downstream(session);
        co_return Reply::make(554, "5.6.0", "Message cannot be inspected: " + result.detail);
      case Disposition::failed:
        co_await reset_downstream(session);
        co_return deferred(Reply::make(451, "4.3.0", "Inspection failed, try again later"));
      case Disposition::inspected:
        break;
    }
    m.inspected.inc();
    m.scan_seconds.observe(result.scan_time.count());
    const std::string& content = result.outgoing ? *result.outgoing : message;
    switch (result.verdict.action) {
      case policy::Action::block: {
        m.blocked.inc();
        co_await reset_downstream(session);
        auto parsed = smtp::parse_reply(result.block_reply);
        if (parsed) co_return *parsed;
        co_return Reply::make(550, "5.7.0", smtp::kGenericBlockText);
      }
      case policy::Action::redirect:
        m.redirected.inc();
        co_return co_await redirect(session, content, result.verdict.redirect);
      case policy::Action::modify:
        m.modified.inc();
        break;
      case policy::Action::pass:
        m.passed.inc();
        break;
    }
    co_return co_await relay(session, content);
  }

  void log_outcome(const smtp::SessionInfo& session, const Inspection& result,
                   const Reply& reply) const {
    std::string what;
    switch (result.disposition) {
      case Disposition::loop:
        what = "already inspected by this deployment";
        break;
      case Disposition::ignored:
        what = "ignored by filters (" + result.detail + ")";
        break;
      case Disposition::unparsable:
        what = "not inspectable: " + result.detail;
        break;
      case Disposition::failed:
        what = "inspection failed: " + result.detail;
        break;
      case Disposition::inspected:
        what = std::string(policy::to_string(result.verdict.action));
        if (result.verdict.violated()) what += " policies=[" + policy_names(result.verdict) + "]";
        if (result.incident)
          what += " incident=" + std::to_string(result.incident->id) +
                  (result.incident->repeated
                       ? " repeat=" + std::to_string(result.incident->repeat_count)
                       : "");
        if (!result.detail.empty()) what += " (" + result.detail + ")";
        break;
    }
    spdlog::info("prevent {}: from=<{}> rcpts={} {} -> {} {}", session.id,
                 session.mail ? session.mail->sender : "", session.recipients.size(), what,
                 reply.code, reply.enhanced);
  }

  std::shared_ptr<PreventContext> context_;
  std::shared_ptr<const SnapshotPolicy> policy_;  // the snapshot this session began with
  std::unique_ptr<smtp::ClientSession> downstream_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<smtp::Handler> make_prevent_handler(std::shared_ptr<PreventContext> context) {
  return std::make_unique<PreventHandler>(std::move(context));
}

}  // namespace cordon::roles::prevent
