// The milter role's decision (see milter_decide.hpp).
#include "roles/milter/milter_decide.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "inspect/answer.hpp"

namespace cordon::roles::milter {

namespace m = cordon::milter;
using inspect::Inspection;

namespace {
constexpr std::string_view kMessagesHelp =
    "Messages decided by the milter, by result (inspected counts every evaluated message)";
constexpr std::string_view kEventsHelp = "Milter protocol events, by kind";
}  // namespace

MilterMetrics::MilterMetrics(util::Metrics& r)
    : messages(r, {.role = "milter", .help = kMessagesHelp, .can_hold = true}),
      connections(r.counter("cordon_milter_connections_total", "MTA connections accepted")),
      registry(r) {}

void MilterMetrics::count(m::ServerEvent event) {
  if (event == m::ServerEvent::connection) {
    connections.inc();
    return;
  }
  if (event == m::ServerEvent::message) return;  // counted by its result (messages)
  registry
      .counter("cordon_milter_events_total", kEventsHelp,
               fmt::format("kind=\"{}\"", m::to_string(event)))
      .inc();
}

namespace {

m::Change to_change(const inspect::HeaderEdit& edit) {
  using Kind = inspect::HeaderEdit::Kind;
  const auto kind = edit.kind == Kind::insert_top ? m::Change::Kind::insert_header
                    : edit.kind == Kind::add      ? m::Change::Kind::add_header
                                                  : m::Change::Kind::change_header;
  return {kind, edit.index, edit.name, edit.value};
}

m::Decision to_decision(inspect::Outcome outcome, const m::Message& message,
                        const Inspection& result) {
  using inspect::Outcome;
  const policy::Verdict& v = result.verdict;
  m::Decision decision;
  switch (outcome) {
    case Outcome::already_inspected:
    case Outcome::ignored:
      return m::Decision::accept();
    case Outcome::refused:
    case Outcome::deferred:
      return m::Decision::reply(inspect::refusal(result)->wire());
    case Outcome::blocked:
      return m::Decision::reply(result.block_reply);
    case Outcome::redirected:
      for (const auto& r : message.recipients)
        decision.changes.push_back({m::Change::Kind::delete_recipient, 0, r, ""});
      decision.changes.push_back({m::Change::Kind::add_recipient, 0, v.redirect, ""});
      break;
    case Outcome::held: {
      // Into the MTA's hold queue, the incident named for the reviewer.
      std::string reason = "cordon incident " + inspect::incident_reference(result) + ": " + v.hold;
      std::replace_if(
          reason.begin(), reason.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
      decision.quarantine = std::move(reason);
      break;
    }
    case Outcome::modified:
    case Outcome::passed:
      break;
  }
  // Modify operations also apply to a redirected copy, as in prevent.
  for (const auto& edit : inspect::header_edits(v.modify, message.headers))
    decision.changes.push_back(to_change(edit));
  return decision;
}

// Built outside the coroutine: GCC 12 destroys temporaries of aggregates
// inside one twice.
std::shared_ptr<const inspect::Job> make_job(const MilterContext& context,
                                             std::shared_ptr<const m::Message> message) {
  auto job = std::make_shared<inspect::Job>();
  job->envelope = policy::Envelope{message->sender, message->recipients, message->client_address,
                                   message->helo};
  job->message = std::shared_ptr<const std::string>(message, &message->content);
  job->snapshot = context.snapshot.get();
  job->store = context.store;
  return job;
}

std::string outcome(const m::Decision& decision) {
  if (decision.kind == m::Decision::Kind::reply)
    return decision.smtp_reply.substr(0, std::min<std::size_t>(9, decision.smtp_reply.size()));
  if (decision.quarantine) return "hold (" + *decision.quarantine + ")";
  return decision.changes.empty() ? "accept" : "accept with changes";
}

m::Decision too_big() {
  return m::Decision::reply("552 5.3.4 Message too big for inspection");
}

}  // namespace

asio::awaitable<m::Decision> decide(std::shared_ptr<MilterContext> context,
                                    std::shared_ptr<const m::Message> message) {
  const std::string id = message->queue_id().empty() ? "-" : message->queue_id();
  const std::string head =
      fmt::format("milter {}: from=<{}> rcpts={}", id, message->sender, message->recipients.size());
  if (message->truncated) {
    context->metrics.messages.add(inspect::Outcome::refused);
    spdlog::info("{} over milter.max_message_size: refused", head);
    co_return too_big();
  }
  auto job = make_job(*context, message);
  Inspection result = co_await inspect::inspect_on(context->workers, std::move(job));
  const auto counted = context->metrics.messages.count(result);
  m::Decision decision = to_decision(counted, *message, result);
  spdlog::info("{} {} -> {}", head, inspect::describe(result), outcome(decision));
  co_return decision;
}

}  // namespace cordon::roles::milter
