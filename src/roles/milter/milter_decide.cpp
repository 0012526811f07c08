// The milter role's decision (see milter_decide.hpp).
#include "roles/milter/milter_decide.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include "util/ascii.hpp"

namespace cordon::roles::milter {

namespace m = cordon::milter;
using inspect::Disposition;
using inspect::Inspection;

namespace {
constexpr std::string_view kMessagesHelp =
    "Messages decided by the milter, by result (inspected counts every evaluated message)";
constexpr std::string_view kEventsHelp = "Milter protocol events, by kind";

util::Counter& messages(util::Metrics& r, std::string_view result) {
  return r.counter("cordon_milter_messages_total", kMessagesHelp,
                   fmt::format("result=\"{}\"", result));
}
}  // namespace

MilterMetrics::MilterMetrics(util::Metrics& r)
    : inspected(messages(r, "inspected")),
      ignored(messages(r, "ignored")),
      blocked(messages(r, "blocked")),
      redirected(messages(r, "redirected")),
      modified(messages(r, "modified")),
      held(messages(r, "held")),
      passed(messages(r, "passed")),
      deferred(messages(r, "deferred")),
      refused(messages(r, "refused")),
      scan_errors(
          r.counter("cordon_milter_scan_errors_total",
                    "Messages tempfailed because the detection engine failed to scan them")),
      unscannable(r.counter(
          "cordon_milter_unscannable_total",
          "Inspected messages with content that could not be read (acted on by on_unscannable)")),
      connections(r.counter("cordon_milter_connections_total", "MTA connections accepted")),
      scan_seconds(r.histogram("cordon_milter_scan_seconds",
                               "Time to parse and evaluate one message",
                               {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5})),
      registry(r) {}

void MilterMetrics::count(m::ServerEvent event) {
  std::string_view kind;
  switch (event) {
    case m::ServerEvent::connection:
      connections.inc();
      return;
    case m::ServerEvent::message:
      return;
    case m::ServerEvent::frame_oversized:
      kind = "frame_oversized";
      break;
    case m::ServerEvent::frame_empty:
      kind = "frame_empty";
      break;
    case m::ServerEvent::unknown_command:
      kind = "unknown_command";
      break;
    case m::ServerEvent::malformed_payload:
      kind = "malformed_payload";
      break;
    case m::ServerEvent::aborted:
      kind = "aborted";
      break;
    case m::ServerEvent::closed_mid_message:
      kind = "closed_mid_message";
      break;
    case m::ServerEvent::disallowed_change:
      kind = "disallowed_change";
      break;
    case m::ServerEvent::timeout:
      kind = "timeout";
      break;
  }
  registry.counter("cordon_milter_events_total", kEventsHelp, fmt::format("kind=\"{}\"", kind))
      .inc();
}

namespace {

std::string single_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// The header changes of the fired policies' modify responses: added
// headers on top, in order (as prevent prepends them), and the first
// Subject prefixed (added when there is none; left alone when it already
// starts with the prefix).
void modify_changes(const policy::ModifyOps& ops, const m::Message& message,
                    std::vector<m::Change>& out) {
  for (auto it = ops.add_headers.rbegin(); it != ops.add_headers.rend(); ++it) {
    const std::string header = single_line(*it);
    const auto colon = header.find(':');
    if (colon == std::string::npos || colon == 0) continue;  // the loader refuses these
    out.push_back({m::Change::Kind::insert_header, 0, header.substr(0, colon),
                   std::string(util::trim(std::string_view(header).substr(colon + 1)))});
  }
  const std::string prefix = single_line(ops.subject_prefix);
  if (prefix.empty()) return;
  auto subject = std::find_if(message.headers.begin(), message.headers.end(),
                              [](const auto& h) { return util::iequals(h.first, "Subject"); });
  if (subject == message.headers.end()) {
    out.push_back({m::Change::Kind::add_header, 0, "Subject", std::string(util::trim(prefix))});
    return;
  }
  std::string_view value = subject->second;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (value.substr(0, prefix.size()) == prefix) return;
  out.push_back({m::Change::Kind::change_header, 1, subject->first, prefix + std::string(value)});
}

m::Decision to_decision(MilterMetrics& metrics, const m::Message& message, Inspection& result) {
  switch (result.disposition) {
    case Disposition::loop:
    case Disposition::ignored:
      metrics.ignored.inc();
      return m::Decision::accept();
    case Disposition::unparsable:
      metrics.refused.inc();
      return m::Decision::reply(inspect::refusal(result)->wire());
    case Disposition::failed:
      metrics.deferred.inc();
      return m::Decision::reply(inspect::refusal(result)->wire());
    case Disposition::scan_failed:
      metrics.deferred.inc();
      metrics.scan_errors.inc();
      return m::Decision::reply(inspect::refusal(result)->wire());
    case Disposition::inspected:
      break;
  }
  metrics.inspected.inc();
  if (std::any_of(result.problems.begin(), result.problems.end(),
                  [](const mime::Problem& p) { return mime::is_unscannable(p.kind); }))
    metrics.unscannable.inc();
  metrics.scan_seconds.observe(result.scan_time.count());
  const policy::Verdict& v = result.verdict;
  m::Decision decision;
  switch (v.action) {
    case policy::Action::block:
      metrics.blocked.inc();
      return m::Decision::reply(result.block_reply);
    case policy::Action::redirect:
      metrics.redirected.inc();
      for (const auto& r : message.recipients)
        decision.changes.push_back({m::Change::Kind::delete_recipient, 0, r, ""});
      decision.changes.push_back({m::Change::Kind::add_recipient, 0, v.redirect, ""});
      break;
    case policy::Action::hold: {
      // Into the MTA's hold queue, the incident named for the reviewer.
      metrics.held.inc();
      std::string incident(smtp::kNoIncidentReference);
      if (result.incident)
        incident = result.incident->reference.empty() ? std::to_string(result.incident->id)
                                                      : result.incident->reference;
      decision.quarantine = single_line("cordon incident " + incident + ": " + v.hold);
      break;
    }
    case policy::Action::modify:
      metrics.modified.inc();
      break;
    case policy::Action::pass:
      metrics.passed.inc();
      break;
  }
  // Modify operations also apply to a redirected copy, as in prevent.
  modify_changes(v.modify, message, decision.changes);
  return decision;
}

struct Job {
  std::shared_ptr<const m::Message> message;
  std::shared_ptr<const inspect::Snapshot> snapshot;
  std::shared_ptr<incidents::IncidentStore> store;
};

Inspection inspect_job(const Job& job) {
  policy::Envelope envelope{job.message->sender, job.message->recipients};
  return inspect::inspect(job.message->content, envelope, *job.snapshot, job.store.get());
}

// Runs on a worker thread.
asio::awaitable<Inspection> inspect_on_worker(std::shared_ptr<const Job> job) {
  co_return inspect_job(*job);
}

// Built outside the coroutine: GCC 12 destroys temporaries of aggregates
// inside one twice.
std::shared_ptr<const Job> make_job(const std::shared_ptr<MilterContext>& context,
                                    std::shared_ptr<const m::Message> message) {
  auto job = std::make_shared<Job>();
  job->message = std::move(message);
  job->snapshot = context->current();
  job->store = context->store;
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
    context->metrics.refused.inc();
    spdlog::info("{} over milter.max_message_size: refused", head);
    co_return too_big();
  }
  auto job = make_job(context, message);
  auto task = inspect_on_worker(job);
  Inspection result =
      co_await asio::co_spawn(context->workers, std::move(task), asio::use_awaitable);
  m::Decision decision = to_decision(context->metrics, *message, result);
  spdlog::info("{} {} -> {}", head, inspect::describe(result), outcome(decision));
  co_return decision;
}

}  // namespace cordon::roles::milter
