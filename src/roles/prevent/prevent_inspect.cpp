// The prevent role's per-message decision (see prevent_inspect.hpp).
#include "roles/prevent/prevent_inspect.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "extract/extract.hpp"
#include "mime/mime.hpp"
#include "roles/prevent/prevent_message.hpp"

namespace cordon::roles::prevent {
namespace {

incidents::Severity to_incident(policy::Severity severity) {
  switch (severity) {
    case policy::Severity::info:
      return incidents::Severity::info;
    case policy::Severity::low:
      return incidents::Severity::low;
    case policy::Severity::medium:
      return incidents::Severity::medium;
    case policy::Severity::high:
      return incidents::Severity::high;
  }
  return incidents::Severity::high;
}

incidents::Action to_incident(policy::Action action) {
  switch (action) {
    case policy::Action::pass:
      return incidents::Action::pass;
    case policy::Action::modify:
      return incidents::Action::modify;
    case policy::Action::redirect:
      return incidents::Action::redirect;
    case policy::Action::block:
      return incidents::Action::block;
  }
  return incidents::Action::block;
}

policy::Filter parse_or_empty(const std::string& text, const char* which) {
  auto parsed = policy::parse_filter(text);
  if (parsed) return std::move(parsed).value();
  spdlog::error("prevent: {} filter refused ({}); inspecting every message", which,
                parsed.error().message);
  return {};
}

std::string block_reply_for(const Inspection& inspection, const SnapshotPolicy& policy) {
  const std::int64_t id = inspection.incident ? inspection.incident->id : 0;
  auto built = smtp::build_block_reply(inspection.verdict.block_texts, id, policy.block_reply);
  if (built) return std::move(built).value();
  // The loader validates block_reply, so this is a last line of defence.
  return smtp::build_block_reply(inspection.verdict.block_texts, id, {}).value();
}

void decide(const InspectInput& input, EvaluatorPool& evaluators, incidents::IncidentStore* store,
            Inspection& out) {
  const std::string& message = *input.message;
  const SnapshotPolicy& snapshot = *input.policy;
  if (inspected_by(message, input.deployment)) {
    out.disposition = Disposition::loop;
    return;
  }
  auto filtered = policy::evaluate_filters(snapshot.sender_filter, snapshot.recipient_filter,
                                           input.envelope.sender, input.envelope.recipients);
  if (filtered.action == policy::FilterAction::ignore) {
    out.disposition = Disposition::ignored;
    out.detail = "sender " + policy::explain(filtered.sender) + ", recipients " +
                 std::string(policy::to_string(filtered.recipients_action));
    out.outgoing = stamp(message, input.deployment, "ignored", std::nullopt);
    return;
  }

  const auto started = std::chrono::steady_clock::now();
  auto parsed = mime::parse(message, snapshot.config->mime);
  if (!parsed) {
    if (parsed.error().code == mime::ParseErrorCode::empty_input) {
      // Nothing to inspect and nothing to leak.
      out.disposition = Disposition::inspected;
      out.outgoing = stamp(message, input.deployment, "pass", std::nullopt);
      return;
    }
    out.disposition = parsed.error().code == mime::ParseErrorCode::limit_exceeded
                          ? Disposition::unparsable
                          : Disposition::failed;
    out.detail = parsed.error().detail;
    return;
  }
  out.subject = parsed->subject;
  out.message_id = parsed->message_id;
  // Attachments are expanded first so that archive members and document
  // text are scanned as components of their own.
  {
    auto lease = evaluators.acquire(snapshot.config);
    Inspector& inspector = lease.inspector();
    if (!inspector.extractor) {
      out.disposition = Disposition::failed;
      out.detail = "attachment extraction unavailable: " + inspector.extractor_error;
      return;
    }
    extract::Expansion expansion = inspector.extractor->expand(*parsed);
    out.verdict = inspector.evaluator->evaluate(*parsed, input.envelope, &expansion);
  }
  out.scan_time = std::chrono::steady_clock::now() - started;
  out.disposition = Disposition::inspected;

  if (out.verdict.violated() && store) {
    auto recorded = store->record(make_incident(out.verdict, input.envelope, out.subject,
                                                out.message_id, content_hash(message)));
    if (recorded) {
      out.incident = *recorded;
    } else {
      out.detail = "incident not recorded: " + recorded.error().message;
    }
  }

  const policy::Verdict& v = out.verdict;
  if (v.action == policy::Action::block) {
    out.block_reply = block_reply_for(out, snapshot);
    return;
  }
  std::optional<std::int64_t> id;
  if (out.incident) id = out.incident->id;
  // Modify operations of fired policies also apply to a redirected copy:
  // redirect decides where the message goes, modify what it looks like.
  std::string edited = v.modify.empty()
                           ? message
                           : rewrite(message, {v.modify.add_headers, v.modify.subject_prefix});
  out.outgoing = stamp(edited, input.deployment, policy::to_string(v.action), id);
}

}  // namespace

std::shared_ptr<const SnapshotPolicy> make_snapshot_policy(
    std::shared_ptr<const config::Config> config) {
  auto out = std::make_shared<SnapshotPolicy>();
  if (config->prevent) {
    const auto& prevent = *config->prevent;
    out->sender_filter = parse_or_empty(prevent.filters.sender, "sender");
    out->recipient_filter = parse_or_empty(prevent.filters.recipient, "recipient");
    out->block_reply.code = prevent.block_reply.code;
    out->block_reply.enhanced = prevent.block_reply.enhanced;
    out->block_reply.max_line_bytes = prevent.block_reply.max_line_bytes;
    out->block_reply.max_reply_bytes = prevent.block_reply.max_reply_bytes;
  }
  out->config = std::move(config);
  return out;
}

EvaluatorPool::Lease EvaluatorPool::acquire(const std::shared_ptr<const config::Config>& config) {
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(free_.begin(), free_.end(),
                           [&](const auto& e) { return e->config == config; });
    if (it != free_.end()) {
      auto inspector = std::move(*it);
      free_.erase(it);
      return Lease(*this, std::move(inspector));
    }
  }
  // Allocating scratch space and loading libmagic take a while: outside the lock.
  auto inspector = std::make_unique<Inspector>();
  inspector->config = config;
  inspector->evaluator = std::make_unique<policy::Evaluator>(config->policy_set);
  auto extractor = extract::Extractor::create(config->attachments);
  if (extractor)
    inspector->extractor.emplace(std::move(extractor).value());
  else
    inspector->extractor_error = extractor.error().detail;
  return Lease(*this, std::move(inspector));
}

void EvaluatorPool::give_back(std::unique_ptr<Inspector> inspector) {
  std::lock_guard lock(mutex_);
  // Inspectors of an older snapshot are dropped as soon as one of a newer
  // snapshot comes back, so a reload frees the old database's scratch.
  std::erase_if(free_, [&](const auto& e) { return e->config != inspector->config; });
  free_.push_back(std::move(inspector));
}

incidents::NewIncident make_incident(const policy::Verdict& verdict,
                                     const policy::Envelope& envelope, std::string subject,
                                     std::string message_id, std::string content_hash) {
  incidents::NewIncident incident;
  incident.time = incidents::Clock::now();
  incident.sender = envelope.sender;
  incident.recipients = envelope.recipients;
  incident.subject = std::move(subject);
  incident.message_id = std::move(message_id);
  incident.content_hash = std::move(content_hash);
  incident.action = to_incident(verdict.action);
  for (const auto& fired : verdict.policies) {
    incidents::PolicyHit hit{fired.name, to_incident(fired.severity), {}};
    for (const auto& m : fired.matches)
      hit.matches.push_back(incidents::Match{m.rule, m.component, m.count, m.samples});
    incident.policies.push_back(std::move(hit));
  }
  return incident;
}

Inspection inspect(const InspectInput& input, EvaluatorPool& evaluators,
                   incidents::IncidentStore* store) {
  Inspection out;
  try {
    decide(input, evaluators, store, out);
  } catch (const std::exception& e) {
    out = Inspection{};
    out.disposition = Disposition::failed;
    out.detail = e.what();
  }
  return out;
}

}  // namespace cordon::roles::prevent
