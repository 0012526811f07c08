// The prevent session handler (see prevent_session.hpp): the smtp relay
// mirrors the transaction onto the next hop; at end of data the message is
// inspected on the worker pool and the inspection mapped onto the relay's
// decision (relay, redirect, or answer a block/defer/refusal).
#include "roles/prevent/prevent_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "inspect/answer.hpp"
#include "queue/queue_id.hpp"
#include "roles/smtp_limits.hpp"
#include "smtp/relay.hpp"
#include "smtp/reply.hpp"
#include "util/log_event.hpp"

namespace cordon::roles::prevent {

namespace {
constexpr std::string_view kMessagesHelp =
    "Messages handled by prevent, by result (inspected counts every evaluated message)";
}

PreventMetrics::PreventMetrics(util::Metrics& registry)
    // prevent has no hold queue: it refuses held messages, counted as blocked.
    : messages(registry, {.role = "prevent", .help = kMessagesHelp, .can_hold = false}),
      downstream_errors(registry.counter("cordon_prevent_downstream_errors_total",
                                         "Next hop connections or replies that failed")),
      clients_refused(
          registry.counter("cordon_prevent_clients_refused_total",
                           "Connections refused: client outside prevent.client_networks")) {}

namespace {

using inspect::Inspection;
using smtp::RelayDecision;
using smtp::Reply;

std::shared_ptr<const inspect::Job> make_job(const PreventContext& context,
                                             std::shared_ptr<const std::string> message,
                                             const smtp::SessionInfo& session,
                                             const PreventSnapshot& snapshot) {
  auto job = std::make_shared<inspect::Job>();
  job->message = std::move(message);
  policy::Envelope envelope;
  if (session.mail) envelope.sender = session.mail->sender;
  for (const auto& r : session.recipients) envelope.recipients.push_back(r.recipient);
  // The Postfix host's word when it forwarded its client (XFORWARD).
  envelope.client_address = smtp::client_address(session);
  envelope.client_helo = smtp::client_helo(session);
  job->envelope = std::move(envelope);
  job->snapshot = snapshot.inspection;
  job->store = context.store;
  return job;
}

std::string_view verdict_name(const Inspection& result) {
  switch (result.disposition) {
    case inspect::Disposition::loop:
      return "loop";
    case inspect::Disposition::ignored:
      return "ignored";
    case inspect::Disposition::unparsable:
      return "unparsable";
    case inspect::Disposition::failed:
      return "failed";
    case inspect::Disposition::scan_failed:
      return "scan_failed";
    case inspect::Disposition::inspected:
      break;
  }
  return policy::to_string(result.verdict.action);
}

// The structured fields of the decision's log line (docs/formats.md, "Log
// lines"); the reply is added once it is known.
util::LogFields decision_fields(const smtp::SessionInfo& session, const Inspection& result,
                                std::string_view message) {
  util::LogFields fields;
  std::vector<std::string> policies;
  for (const auto& p : result.verdict.policies) policies.push_back(p.name);
  // The upstream's queue id: Postfix's when it forwarded one (XFORWARD
  // IDENT), else the gateway's X-Cordon-Queue-Id.
  std::string queue_id = session.forwarded ? session.forwarded->ident : std::string();
  if (queue_id.empty()) queue_id = queue::find_queue_id_header(message.substr(0, 64 * 1024));
  fields.add("role", "prevent")
      .add("event", "decision")
      .add("session", session.id)
      .add("queue_id", queue_id)
      .add("message_id", result.message_id)
      .add("sender", session.mail ? session.mail->sender : std::string())
      .add("rcpt_count", session.recipients.size())
      .add("client", smtp::client_address(session))
      .add("verdict", verdict_name(result))
      .add("policies", policies);
  if (!result.incident)
    fields.add_null("incident");
  else if (!result.incident->reference.empty())
    fields.add("incident", result.incident->reference);
  else
    fields.add("incident", result.incident->id);
  return fields;
}

// What the inspection, counted as `outcome`, means for the message.
RelayDecision to_decision(inspect::Outcome outcome, std::shared_ptr<const std::string> message,
                          Inspection& result) {
  using inspect::Outcome;
  if (outcome == Outcome::already_inspected) return RelayDecision::relay(std::move(message));
  if (outcome == Outcome::refused || outcome == Outcome::deferred)
    return RelayDecision::answer(*inspect::refusal(result));
  // Ignored messages go on too, with what the pipeline made of them.
  auto content = result.outgoing ? std::make_shared<const std::string>(std::move(*result.outgoing))
                                 : std::move(message);
  switch (outcome) {
    case Outcome::blocked:  // held ones too: prevent has no hold queue, it refuses them
    case Outcome::held: {
      auto parsed = smtp::parse_reply(result.block_reply);
      if (parsed) return RelayDecision::answer(*parsed);
      return RelayDecision::answer(Reply::make(550, "5.7.0", smtp::kGenericBlockText));
    }
    case Outcome::redirected:
      return RelayDecision::redirect(std::move(content), result.verdict.redirect);
    default:
      return RelayDecision::relay(std::move(content));
  }
}

// The relay's end-of-data decision: inspect on the worker pool, map the
// result onto the relay, and log the outcome once the upstream's reply is
// known.
asio::awaitable<RelayDecision> decide(std::shared_ptr<PreventContext> context,
                                      std::shared_ptr<const PreventSnapshot> snapshot,
                                      const smtp::SessionInfo& session,
                                      std::shared_ptr<const std::string> message) {
  auto job = make_job(*context, message, session, *snapshot);
  Inspection result = co_await inspect::inspect_on(context->workers, std::move(job));
  const auto counted = context->metrics.messages.count(result);

  std::string line =
      fmt::format("prevent {}: from=<{}> rcpts={} client={} {}", session.id,
                  session.mail ? session.mail->sender : "", session.recipients.size(),
                  smtp::client_address(session), inspect::describe(result));
  auto fields = decision_fields(session, result, *message);
  RelayDecision decision = to_decision(counted, std::move(message), result);
  decision.on_answer = [line = std::move(line), fields = std::move(fields)](const Reply& reply) {
    auto all = fields;
    all.add("reply_code", reply.code).add("reply_enhanced", reply.enhanced);
    util::log_event(spdlog::level::info,
                    fmt::format("{} -> {} {}", line, reply.code, reply.enhanced), all);
  };
  co_return decision;
}

}  // namespace

std::unique_ptr<smtp::Handler> make_prevent_handler(std::shared_ptr<PreventContext> context) {
  // A session keeps the snapshot (and so the next hop) it began with.
  auto snapshot = context->snapshot.get();
  const config::HostPort& hop = snapshot->config->prevent->next_hop;
  smtp::RelayOptions options;
  options.host = hop.host;
  options.port = hop.port;
  options.helo_name = context->hostname;
  options.log_name = "prevent";
  options.client_allowed = address_matcher(snapshot->config->prevent->client_networks);
  options.sessions = context->sessions;

  smtp::RelayHooks hooks;
  hooks.downstream_error = [context] { context->metrics.downstream_errors.inc(); };
  hooks.deferred = [context] { context->metrics.messages.add(inspect::Outcome::deferred); };
  hooks.client_refused = [context] { context->metrics.clients_refused.inc(); };
  hooks.decide = [context, snapshot](const smtp::SessionInfo& session,
                                     std::shared_ptr<const std::string> message) {
    return decide(context, snapshot, session, std::move(message));
  };
  return smtp::make_relay_handler(context->io, std::move(options), std::move(hooks));
}

}  // namespace cordon::roles::prevent
