// The inspection pipeline (see inspect.hpp): one pass from the raw message
// to what the caller sends on or answers.
#include "inspect/inspect.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <exception>

#include "inspect/answer.hpp"
#include "inspect/detail/incident.hpp"
#include "inspect/detail/snapshot.hpp"
#include "mime/header_edit.hpp"

namespace cordon::inspect {
namespace {

policy::Filter parse_or_empty(const std::string& text, const char* which) {
  auto parsed = policy::parse_filter(text);
  if (parsed) return std::move(parsed).value();
  spdlog::error("inspect: {} filter refused ({}); inspecting every message", which,
                parsed.error().message);
  return {};
}

// The decision of each side and the mask that made it: for recipients the
// first inspected one, or (all ignored) the first.
std::string explain_filters(const policy::FilterDecision& d) {
  std::string out = "sender " + policy::explain(d.sender) + "; recipients ";
  if (d.recipients.empty()) return out + "inspect (no recipients)";
  const policy::AddressDecision* shown = &d.recipients.front();
  for (const auto& r : d.recipients)
    if (r.action == policy::FilterAction::inspect) {
      shown = &r;
      break;
    }
  return out + policy::explain(*shown) + " for " + shown->address;
}

InspectOptions checked(InspectOptions options) {
  if (auto valid = smtp::validate(options.block_reply); !valid) {
    spdlog::error("inspect: block reply options refused ({}); using the defaults",
                  smtp::describe(valid.error()));
    options.block_reply = {};
  }
  return options;
}

// Fills `out` step by step; a step that decides the message returns.
class Pipeline {
 public:
  Pipeline(std::string_view message, const Snapshot& snapshot, incidents::IncidentStore* store,
           Inspection& out)
      : message_(message),
        snapshot_(snapshot),
        options_(snapshot.options()),
        store_(store),
        out_(out) {}

  void run(const std::optional<policy::Envelope>& given) {
    if (options_.deployment && inspected_by(message_, *options_.deployment)) {
      out_.disposition = Disposition::loop;
      return;
    }
    if (given && ignored_by_filters(*given)) return;

    const auto started = std::chrono::steady_clock::now();
    auto parsed = mime::parse(message_, options_.mime);
    if (!parsed) {
      refuse(parsed.error());
      return;
    }
    out_.subject = parsed->subject;
    out_.message_id = parsed->message_id;
    const policy::Envelope envelope = given ? *given : detail::envelope_from_headers(*parsed);
    if (!given && ignored_by_filters(envelope)) return;
    // Attachments are expanded first so that archive members and document
    // text are scanned as components of their own.
    {
      auto inspector = snapshot_.inspectors().acquire();
      if (!inspector->extractor) {
        out_.disposition = Disposition::failed;
        out_.detail = "attachment extraction unavailable: " + inspector->extractor_error;
        return;
      }
      extract::Expansion expansion = inspector->extractor->expand(*parsed);
      auto evaluated = inspector->evaluator.evaluate(*parsed, envelope, &expansion);
      if (!evaluated) {
        out_.disposition = Disposition::scan_failed;
        out_.detail = evaluated.error().describe();
        out_.problems = std::move(parsed->problems);
        return;
      }
      out_.verdict = std::move(evaluated).value();
    }
    out_.problems = std::move(parsed->problems);
    out_.scan_time = std::chrono::steady_clock::now() - started;
    out_.disposition = Disposition::inspected;

    record(envelope);
    respond();
  }

 private:
  bool ignored_by_filters(const policy::Envelope& envelope) {
    auto filtered =
        policy::evaluate_filters(snapshot_.sender_filter(), snapshot_.recipient_filter(),
                                 envelope.sender, envelope.recipients);
    out_.filter = explain_filters(filtered);
    if (filtered.action != policy::FilterAction::ignore) return false;
    out_.disposition = Disposition::ignored;
    out_.detail = "sender " + policy::explain(filtered.sender) + ", recipients " +
                  std::string(policy::to_string(filtered.recipients_action));
    out_.outgoing = stamped(message_, "ignored", std::nullopt);
    return true;
  }

  void refuse(const mime::ParseError& error) {
    out_.parse_error = error;
    if (error.code == mime::ParseErrorCode::empty_input) {
      // Nothing to inspect and nothing to leak.
      out_.disposition = Disposition::inspected;
      out_.outgoing = stamped(message_, "pass", std::nullopt);
      return;
    }
    out_.disposition = error.code == mime::ParseErrorCode::limit_exceeded ? Disposition::unparsable
                                                                          : Disposition::failed;
    out_.detail = error.detail;
  }

  void record(const policy::Envelope& envelope) {
    if (!out_.verdict.violated() || !store_) return;
    auto incident = detail::make_incident(out_.verdict, envelope, out_.subject, out_.message_id,
                                          content_hash(message_));
    if (options_.monitor_only) incident.action = incidents::Action::monitor;
    auto recorded = store_->record(incident);
    if (recorded)
      out_.incident = *recorded;
    else
      out_.detail = "incident not recorded: " + recorded.error().message;
  }

  void respond() {
    const policy::Verdict& v = out_.verdict;
    std::optional<std::int64_t> id;
    if (out_.incident && out_.incident->reference.empty()) id = out_.incident->id;
    // A hold also gets the block reply: a role without a hold queue refuses it.
    if (v.action == policy::Action::block || v.action == policy::Action::hold) {
      // Never "Incident ID: 0": a number nobody can look up.
      out_.block_reply = block_reply(v, incident_reference(out_));
      if (v.action == policy::Action::block) return;
    }
    // Modify operations of fired policies also apply to a redirected copy:
    // redirect decides where the message goes, modify what it looks like.
    if (v.modify.empty()) {
      out_.outgoing = stamped(message_, policy::to_string(v.action), id);
    } else {
      std::string edited =
          mime::edit_headers(message_, {v.modify.add_headers, v.modify.subject_prefix});
      out_.outgoing = stamped(edited, policy::to_string(v.action), id);
      if (!out_.outgoing) out_.outgoing = std::move(edited);
    }
  }

  std::string block_reply(const policy::Verdict& v, std::string_view incident) const {
    auto built = smtp::build_block_reply(v.block_texts, incident, options_.block_reply);
    if (built) return std::move(built).value();
    // The options were checked when the snapshot was made: a last line of defence.
    return smtp::build_block_reply(v.block_texts, incident, {}).value();
  }

  // The message with this deployment's stamp; nullopt without a deployment.
  std::optional<std::string> stamped(std::string_view message, std::string_view verdict,
                                     std::optional<std::int64_t> incident) const {
    if (!options_.deployment) return std::nullopt;
    return stamp(message, *options_.deployment, verdict, incident);
  }

  std::string_view message_;
  const Snapshot& snapshot_;
  const InspectOptions& options_;
  incidents::IncidentStore* store_;
  Inspection& out_;
};

}  // namespace

Snapshot::Snapshot(InspectOptions options)
    : options_(checked(std::move(options))),
      sender_filter_(parse_or_empty(options_.sender_filter, "sender")),
      recipient_filter_(parse_or_empty(options_.recipient_filter, "recipient")),
      inspectors_(options_.policies, options_.attachments, options_.scan_fault) {}

std::shared_ptr<const Snapshot> make_snapshot(InspectOptions options) {
  return std::make_shared<const Snapshot>(std::move(options));
}

detect::ScanFault scan_fault_from_environment() {
  const char* marker = std::getenv("CORDON_TEST_FAIL_SCAN");
  if (!marker || !*marker) return {};
  return [m = std::string(marker)](std::string_view text) {
    return text.find(m) != std::string_view::npos;
  };
}

Status<std::string> warm_up(const Snapshot& snapshot) {
  auto inspector = snapshot.inspectors().acquire();
  if (!inspector->extractor) return fail(inspector->extractor_error);
  return Ok{};
}

Inspection inspect(std::string_view message, const std::optional<policy::Envelope>& envelope,
                   const Snapshot& snapshot, incidents::IncidentStore* store) {
  Inspection out;
  try {
    Pipeline(message, snapshot, store, out).run(envelope);
  } catch (const std::exception& e) {
    out = Inspection{};
    out.disposition = Disposition::failed;
    out.detail = e.what();
  }
  return out;
}

}  // namespace cordon::inspect
