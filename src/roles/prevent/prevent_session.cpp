// The prevent session handler (see prevent_session.hpp): the smtp relay
// mirrors the transaction onto the next hop; at end of data the message is
// inspected on the worker pool and the inspection mapped onto the relay's
// decision (relay, redirect, or answer a block/defer/refusal).
#include "roles/prevent/prevent_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <utility>

#include "roles/smtp_limits.hpp"
#include "smtp/relay.hpp"
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
      clients_refused(
          registry.counter("cordon_prevent_clients_refused_total",
                           "Connections refused: client outside prevent.client_networks")),
      scan_errors(
          registry.counter("cordon_prevent_scan_errors_total",
                           "Messages deferred because the detection engine failed to scan them")),
      unscannable(registry.counter(
          "cordon_prevent_unscannable_total",
          "Inspected messages with content that could not be read (acted on by on_unscannable)")),
      scan_seconds(registry.histogram("cordon_prevent_scan_seconds",
                                      "Time to parse and evaluate one message",
                                      {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5})) {}

namespace {

using inspect::Disposition;
using inspect::Inspection;
using smtp::RelayDecision;
using smtp::Reply;

// One message's inspection, as handed to a worker thread.
struct InspectJob {
  std::shared_ptr<const std::string> message;
  std::optional<policy::Envelope> envelope;
  std::shared_ptr<const PreventSnapshot> snapshot;
};

// Runs on a worker thread; the result is handed back to the session's
// executor by co_spawn.
asio::awaitable<Inspection> inspect_on_worker(std::shared_ptr<PreventContext> context,
                                              std::shared_ptr<const InspectJob> job) {
  co_return inspect::inspect(*job->message, job->envelope, *job->snapshot->inspection,
                             context->store.get());
}

std::shared_ptr<const InspectJob> make_job(std::shared_ptr<const std::string> message,
                                           const smtp::SessionInfo& session,
                                           std::shared_ptr<const PreventSnapshot> snapshot) {
  auto job = std::make_shared<InspectJob>();
  job->message = std::move(message);
  policy::Envelope envelope;
  if (session.mail) envelope.sender = session.mail->sender;
  for (const auto& r : session.recipients) envelope.recipients.push_back(r.recipient);
  job->envelope = std::move(envelope);
  job->snapshot = std::move(snapshot);
  return job;
}

// What the inspection means for the message, counted in the role's metrics.
RelayDecision to_decision(PreventMetrics& m, std::shared_ptr<const std::string> message,
                          Inspection& result) {
  switch (result.disposition) {
    case Disposition::loop:
      m.looped.inc();
      return RelayDecision::relay(std::move(message));
    case Disposition::ignored:
      m.ignored.inc();
      return RelayDecision::relay(std::make_shared<const std::string>(std::move(*result.outgoing)));
    case Disposition::unparsable:
      m.refused.inc();
      return RelayDecision::answer(*inspect::refusal(result));
    case Disposition::failed:
      m.deferred.inc();
      return RelayDecision::answer(*inspect::refusal(result));
    case Disposition::scan_failed:
      m.deferred.inc();
      m.scan_errors.inc();
      return RelayDecision::answer(*inspect::refusal(result));
    case Disposition::inspected:
      break;
  }
  m.inspected.inc();
  if (std::any_of(result.problems.begin(), result.problems.end(),
                  [](const mime::Problem& p) { return mime::is_unscannable(p.kind); }))
    m.unscannable.inc();
  m.scan_seconds.observe(result.scan_time.count());
  auto content = result.outgoing ? std::make_shared<const std::string>(std::move(*result.outgoing))
                                 : std::move(message);
  switch (result.verdict.action) {
    case policy::Action::hold:  // prevent has no hold queue: fail closed, refuse it
    case policy::Action::block: {
      m.blocked.inc();
      auto parsed = smtp::parse_reply(result.block_reply);
      if (parsed) return RelayDecision::answer(*parsed);
      return RelayDecision::answer(Reply::make(550, "5.7.0", smtp::kGenericBlockText));
    }
    case policy::Action::redirect:
      m.redirected.inc();
      return RelayDecision::redirect(std::move(content), result.verdict.redirect);
    case policy::Action::modify:
      m.modified.inc();
      break;
    case policy::Action::pass:
      m.passed.inc();
      break;
  }
  return RelayDecision::relay(std::move(content));
}

// The relay's end-of-data decision: inspect on the worker pool, map the
// result onto the relay, and log the outcome once the upstream's reply is
// known.
asio::awaitable<RelayDecision> decide(std::shared_ptr<PreventContext> context,
                                      std::shared_ptr<const PreventSnapshot> snapshot,
                                      const smtp::SessionInfo& session,
                                      std::shared_ptr<const std::string> message) {
  // Built outside any co_await expression: GCC 12 destroys temporaries
  // of aggregates inside one twice.
  auto job = make_job(message, session, std::move(snapshot));
  auto task = inspect_on_worker(context, job);
  Inspection result =
      co_await asio::co_spawn(context->workers, std::move(task), asio::use_awaitable);

  std::string line = fmt::format("prevent {}: from=<{}> rcpts={} {}", session.id,
                                 session.mail ? session.mail->sender : "",
                                 session.recipients.size(), inspect::describe(result));
  RelayDecision decision = to_decision(context->metrics, std::move(message), result);
  decision.on_answer = [line = std::move(line)](const Reply& reply) {
    spdlog::info("{} -> {} {}", line, reply.code, reply.enhanced);
  };
  co_return decision;
}

}  // namespace

std::unique_ptr<smtp::Handler> make_prevent_handler(std::shared_ptr<PreventContext> context) {
  // A session keeps the snapshot (and so the next hop) it began with.
  auto snapshot = context->current();
  const config::HostPort& hop = snapshot->config->prevent->next_hop;
  smtp::RelayOptions options;
  options.host = hop.host;
  options.port = hop.port;
  options.helo_name = context->hostname;
  options.timeouts = context->downstream_timeouts;
  options.log_name = "prevent";
  options.client_allowed = address_matcher(snapshot->config->prevent->client_networks);

  smtp::RelayHooks hooks;
  hooks.downstream_error = [context] { context->metrics.downstream_errors.inc(); };
  hooks.deferred = [context] { context->metrics.deferred.inc(); };
  hooks.client_refused = [context] { context->metrics.clients_refused.inc(); };
  hooks.decide = [context, snapshot](const smtp::SessionInfo& session,
                                     std::shared_ptr<const std::string> message) {
    return decide(context, snapshot, session, std::move(message));
  };
  return smtp::make_relay_handler(context->io, std::move(options), std::move(hooks));
}

}  // namespace cordon::roles::prevent
