// The gateway's SMTP handlers: relay control, spool streaming, 250 after
// commit (see gateway_listener.hpp).
#include "roles/gateway/gateway_listener.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "queue/inspected_copy.hpp"
#include "queue/queue_id.hpp"
#include "queue/smtp_envelope.hpp"
#include "roles/gateway/gateway_support.hpp"
#include "smtp/relay_access.hpp"
#include "util/ascii.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's
// awaitable frame allocator into a coroutine; the pairing is Asio's own.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cordon::roles::gateway {
namespace {

using smtp::Reply;

Reply spool_refusal(const queue::SpoolFailure& failure) {
  if (failure.code == queue::SpoolError::no_space)
    return Reply::make(452, "4.3.1", "Insufficient system storage, try again later");
  return Reply::make(451, "4.3.0", "Local error in processing, try again later");
}

class GatewayHandler final : public smtp::Handler {
 public:
  GatewayHandler(std::shared_ptr<const ListenerContext> context, ListenerKind kind)
      : context_(std::move(context)), kind_(kind), config_(context_->shared->config.get()) {}

  asio::awaitable<Reply> on_mail(const smtp::SessionInfo& session, const smtp::MailFrom&) override {
    if (kind_ == ListenerKind::resubmit) {
      const auto ip = smtp::peer_address(session);
      const auto& allowed = context_->dlp_addresses;
      if (std::find(allowed.begin(), allowed.end(), ip) == allowed.end()) {
        spdlog::warn("gateway resubmission from {} refused: not a DLP host", ip);
        refused_metric("not_dlp_host");
        co_return Reply::make(550, "5.7.1", "Resubmission is accepted only from DLP hosts");
      }
    }
    co_return Reply::make(250, "2.1.0", "Sender OK");
  }

  asio::awaitable<Reply> on_rcpt(const smtp::SessionInfo& session,
                                 const smtp::RcptTo& rcpt) override {
    if (kind_ == ListenerKind::client &&
        relay_decision(session, rcpt.recipient) != smtp::RelayDecision::allowed) {
      spdlog::warn("gateway relay denied: client {} to <{}>", smtp::peer_address(session),
                   rcpt.recipient);
      context_->shared->metrics
          .counter("cordon_gateway_relay_denied_total", "Recipients refused: relay access denied")
          .inc();
      co_return Reply::make(554, "5.7.1", "<" + rcpt.recipient + ">: Relay access denied");
    }
    co_return Reply::make(250, "2.1.5", "Recipient OK");
  }

  asio::awaitable<smtp::DataStart> on_data_begin(const smtp::SessionInfo& session) override {
    writer_.reset();
    write_error_.reset();
    release_content();
    // A resubmission is held in memory (its stamp covers all of it) and
    // written at the end of DATA, where it is known whether it is the
    // original content with DLP's header lines in front.
    if (kind_ == ListenerKind::resubmit)
      co_return smtp::DataStart{Reply::make(354, "", "End data with <CR><LF>.<CR><LF>"),
                                std::make_unique<Sink>(*this)};
    const auto ip = smtp::peer_address(session);
    auto envelope = queue::received_envelope(session, ip, queue::Arrival::client,
                                             std::chrono::system_clock::now());
    auto spool = context_->spool;
    auto begin_message = [spool, envelope] { return spool.begin(envelope); };
    auto begun = co_await offload(context_->shared->workers, begin_message);
    if (!begun) {
      spdlog::error("gateway session {}: cannot queue a message: {}", session.id,
                    begun.error().detail);
      co_return smtp::DataStart{spool_refusal(begun.error()), nullptr};
    }
    writer_.emplace(std::move(*begun));
    write(queue::received_header(session, ip, context_->hostname, writer_->id(),
                                 std::chrono::system_clock::now()));
    co_return smtp::DataStart{Reply::make(354, "", "End data with <CR><LF>.<CR><LF>"),
                              std::make_unique<Sink>(*this)};
  }

  asio::awaitable<Reply> on_data_end(const smtp::SessionInfo& session,
                                     std::uint64_t size) override {
    if (kind_ == ListenerKind::resubmit) co_return co_await resubmitted(session, size);
    if (!writer_) co_return Reply::make(451, "4.3.0", "Local error in processing");
    auto writer = std::move(*writer_);
    writer_.reset();
    const std::string id = writer.id();
    if (write_error_) {
      spdlog::error("queue {}: not queued: {}", id, write_error_->detail);
      co_return spool_refusal(*write_error_);
    }
    auto commit_message = [&writer] { return writer.commit(); };
    auto committed = co_await offload(context_->shared->workers, commit_message);
    if (!committed) {
      spdlog::error("queue {}: not queued: {}", id, committed.error().detail);
      co_return spool_refusal(committed.error());
    }
    log_queued(session, id, size, false);
    context_->committed(id, false);
    co_return Reply::make(250, "2.0.0", "Ok: queued as " + id);
  }

  asio::awaitable<void> on_data_abort(const smtp::SessionInfo&, const Reply&) override {
    writer_.reset();  // the writer's destructor removes what was staged
    release_content();
    co_return;
  }

  asio::awaitable<void> on_disconnect(const smtp::SessionInfo&) override {
    writer_.reset();
    release_content();
    co_return;
  }

 private:
  class Sink final : public smtp::DataSink {
   public:
    explicit Sink(GatewayHandler& handler) : handler_(handler) {}
    asio::awaitable<void> write(std::string_view chunk) override {
      handler_.client_data(chunk);
      co_return;
    }

   private:
    GatewayHandler& handler_;
  };

  // What the client sent; the gateway's own Received header is written
  // straight to the spool.
  void client_data(std::string_view chunk) {
    // A resubmission is kept whole for the stamp check: its mac covers the
    // entire content. The session stops passing data on past
    // smtp.max_message_size, so this holds at most one message, as prevent
    // does on its side.
    if (kind_ == ListenerKind::resubmit)
      resubmitted_content_.append(chunk);
    else
      write(chunk);
  }

  void log_queued(const smtp::SessionInfo& session, const std::string& id, std::uint64_t size,
                  bool resubmitted) {
    spdlog::info("queue {}: queued from={} <{}> recipients={} size={} client={} listener={}", id,
                 session.helo_name, session.mail ? session.mail->sender : "",
                 session.recipients.size(), size, smtp::peer_address(session),
                 resubmitted ? "resubmit" : "client");
    context_->shared->metrics
        .counter("cordon_gateway_received_total", "Messages queued by the gateway",
                 resubmitted ? "listener=\"resubmit\"" : "listener=\"client\"")
        .inc();
  }

  // The end of a resubmission: the stamp checked, then the inspected copy
  // kept in its original's entry when it can be (queue/inspected_copy.hpp),
  // else queued whole.
  asio::awaitable<Reply> resubmitted(const smtp::SessionInfo& session, std::uint64_t size) {
    const auto ip = smtp::peer_address(session);
    const auto now = std::chrono::system_clock::now();
    auto envelope = queue::received_envelope(session, ip, queue::Arrival::resubmitted, now);
    const std::string original = queue::find_queue_id_header(resubmitted_content_);
    if (!original.empty())
      envelope.add_trace(now, std::string(queue::trace_event::dlp_passed),
                         "inspected copy of queue " + original);
    const bool may_keep =
        !original.empty() && context_->begin_in_place && context_->begin_in_place(original);
    // One trip to the worker pool: the stamp checked (hashing a large
    // message takes a while), then the copy kept in its original's entry or
    // queued whole. A refused message is never queued.
    struct Outcome {
      inspect::StampCheck check = inspect::StampCheck::missing;
      queue::StoredCopy stored;
    };
    auto spool = context_->spool;
    auto store = [&]() {
      Outcome out;
      out.check = inspect::check_stamp(resubmitted_content_, context_->deployment);
      if (out.check != inspect::StampCheck::valid) return out;
      auto received = [&](const std::string& id) {
        return queue::received_header(session, ip, context_->hostname, id, now);
      };
      out.stored = queue::store_inspected_copy(spool, original, may_keep, envelope, received,
                                               resubmitted_content_);
      return out;
    };
    auto outcome = co_await offload(context_->shared->workers, store);
    release_content();
    if (may_keep) context_->end_in_place(original, outcome.stored.kept);
    if (outcome.check != inspect::StampCheck::valid) {
      spdlog::warn(
          "gateway resubmission from {} refused: not inspected by this deployment's DLP "
          "(X-Cordon-Inspected {}; this deployment is {}); sender <{}>, {} recipient(s)",
          ip, describe(outcome.check), context_->deployment.id,
          session.mail ? session.mail->sender : "", session.recipients.size());
      refused_metric(inspect::to_string(outcome.check));
      co_return Reply::make(550, "5.7.1",
                            "Message refused: not inspected by this deployment's DLP");
    }
    if (outcome.stored.kept) {
      inspected_copy_metric("in_place");
      log_queued(session, original, size, true);
      spdlog::info("queue {}: inspected copy of queue {} kept in its entry", original, original);
      co_return Reply::make(250, "2.0.0", "Ok: queued as " + original);
    }
    if (!outcome.stored.not_kept.empty())
      spdlog::warn("queue {}: the inspected copy could not be kept in its entry ({}): queued whole",
                   original, outcome.stored.not_kept);
    auto& committed = *outcome.stored.queued;
    if (!committed) {
      spdlog::error("gateway resubmission from {}: not queued: {}", ip, committed.error().detail);
      co_return spool_refusal(committed.error());
    }
    log_queued(session, *committed, size, true);
    if (!original.empty()) {
      inspected_copy_metric("whole");
      spdlog::info("queue {}: inspected copy of queue {}", *committed, original);
    }
    context_->committed(*committed, true);
    co_return Reply::make(250, "2.0.0", "Ok: queued as " + *committed);
  }

  // Frees the buffer, not just empties it: a session may stay open long
  // after one large message.
  void release_content() { std::string().swap(resubmitted_content_); }

  void write(std::string_view chunk) {
    if (!writer_ || write_error_) return;
    // Buffered by the writer: this is a memcpy, with a write(2) per 64 KiB.
    if (auto written = writer_->write(chunk); !written) write_error_ = written.error();
  }

  static std::string_view describe(inspect::StampCheck check) {
    switch (check) {
      case inspect::StampCheck::missing:
        return "missing";
      case inspect::StampCheck::other_deployment:
        return "of another deployment only";
      case inspect::StampCheck::invalid:
        return "does not match this content (copied, forged or changed after inspection)";
      case inspect::StampCheck::valid:
        break;
    }
    return "valid";
  }

  // How inspected copies were stored: kept in their original's entry, or
  // queued whole (changed by DLP, a second copy, an original not waiting).
  void inspected_copy_metric(std::string_view stored) {
    context_->shared->metrics
        .counter("cordon_gateway_inspected_copies_total",
                 "Inspected copies taken back from DLP, by how they were stored",
                 "stored=\"" + std::string(stored) + "\"")
        .inc();
  }

  void refused_metric(std::string_view reason) {
    context_->shared->metrics
        .counter("cordon_gateway_resubmit_refused_total",
                 "Resubmissions refused: not from a DLP host, or not stamped by this deployment",
                 "reason=\"" + std::string(reason) + "\"")
        .inc();
  }

  smtp::RelayDecision relay_decision(const smtp::SessionInfo& session,
                                     const std::string& recipient) const {
    const auto& gateway = *config_->gateway;
    smtp::RelayRules rules{[&gateway](std::string_view ip) {
                             return std::any_of(
                                 gateway.relay_networks.begin(), gateway.relay_networks.end(),
                                 [&](const config::Cidr& net) { return net.contains(ip); });
                           },
                           gateway.local_domains};
    return smtp::relay_decision(rules, smtp::peer_address(session), recipient);
  }

  std::shared_ptr<const ListenerContext> context_;
  ListenerKind kind_;
  std::shared_ptr<const config::Config> config_;  // the snapshot this session began with
  std::optional<queue::MessageWriter> writer_;
  std::optional<queue::SpoolFailure> write_error_;
  std::string resubmitted_content_;
};

}  // namespace

smtp::HandlerFactory make_handler_factory(std::shared_ptr<const ListenerContext> context,
                                          ListenerKind kind) {
  return [context, kind] { return std::make_unique<GatewayHandler>(context, kind); };
}

}  // namespace cordon::roles::gateway
