// The gateway's decision log line for one attempt (docs/formats.md, "Log
// lines"); see decision_log.hpp.
#include "queue/decision_log.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <cctype>

#include "util/log_event.hpp"

namespace cordon::queue {
namespace {

// The incident a DLP reply names ("Incident ID: 42" or an outbox reference
// "P-..."); empty when it names none.
std::string incident_in(const smtp::Reply& reply) {
  constexpr std::string_view kLabel = "Incident ID: ";
  for (const auto& line : reply.lines) {
    auto at = line.find(kLabel);
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(at + kLabel.size());
    std::size_t n = 0;
    while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '-'))
      ++n;
    return std::string(rest.substr(0, n));
  }
  return "";
}

// What became of the message in this attempt, as one word.
std::string_view verdict_of(const AttemptReport& report) {
  if (report.dlp) {
    switch (report.dlp->outcome) {
      case DlpOutcome::passed:
        break;  // then delivered, deferred or bounced by the next hop, below
      default:
        return to_string(report.dlp->outcome);
    }
  }
  if (!report.delivered_via.empty()) return "delivered";
  if (report.keep) return "deferred";
  // DLP took it (reflect mode: the inspected copy is a new queue entry).
  if (report.dlp && !report.bounced) return "passed";
  return report.bounced ? "bounced" : "removed";
}

}  // namespace

// The decision's log line fields (docs/formats.md, "Log lines").
void log_decision(const std::string& id, const Envelope& before, const std::string& message_id,
                  const AttemptReport& report) {
  util::LogFields fields;
  fields.add("role", "gateway")
      .add("event", "decision")
      .add("queue_id", id)
      .add("message_id", message_id)
      .add("sender", before.sender)
      .add("rcpt_count", before.recipients.size())
      .add("verdict", verdict_of(report))
      .add("dlp", report.dlp ? to_string(report.dlp->outcome) : std::string_view("skipped"));
  if (report.dlp && !report.dlp->host.empty()) fields.add("dlp_host", report.dlp->host);
  if (!report.delivered_via.empty()) fields.add("delivered_via", report.delivered_via);
  const smtp::Reply* reply =
      report.dlp && report.dlp->result.reply.code != 0 ? &report.dlp->result.reply : nullptr;
  std::string incident = reply ? incident_in(*reply) : "";
  if (incident.empty())
    fields.add_null("incident");
  else if (incident.find_first_not_of("0123456789") == std::string::npos)
    fields.add("incident", std::stoll(incident));
  else
    fields.add("incident", incident);
  if (reply) {
    fields.add("reply_code", reply->code).add("reply_enhanced", reply->enhanced);
  } else {
    fields.add_null("reply_code");
  }
  fields.add("bounced", report.bounced).add("attempts", report.envelope.attempts);
  util::log_event(spdlog::level::info,
                  fmt::format("queue {}: {} from=<{}> rcpts={}{}", id, verdict_of(report),
                              before.sender, before.recipients.size(),
                              reply ? fmt::format(" dlp said {} {}", reply->code, reply->enhanced)
                                    : std::string()),
                  fields);
}

}  // namespace cordon::queue
