// Filtering, inspection and rendering of one seen message (see monitor.hpp).
#include <fmt/format.h>

#include <ctime>

#include "inspect/from_config.hpp"
#include "inspect/json.hpp"
#include "monitor/monitor.hpp"

namespace cordon::monitor {
namespace {

// RFC 3339 in UTC with microseconds: capture time is that precise.
std::string rfc3339(capture::Timestamp t) {
  const auto us = t.count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

std::string session_of(const SeenMessage& s) {
  return s.client.to_string() + " > " + s.server.to_string();
}

constexpr std::string_view kEncrypted = "encrypted (STARTTLS): not inspected";

}  // namespace

std::shared_ptr<const inspect::Snapshot> make_snapshot(const config::Config& config) {
  auto options = inspect::options_from(config);
  if (config.monitor) {
    options.sender_filter = config.monitor->filters.sender;
    options.recipient_filter = config.monitor->filters.recipient;
  }
  options.monitor_only = true;
  return inspect::make_snapshot(std::move(options));
}

Record judge(SeenMessage seen, const inspect::Snapshot& snapshot, incidents::IncidentStore* store) {
  Record r;
  r.seen = std::move(seen);
  const smtp::ObservedMessage& m = r.seen.message;
  if (m.encrypted) {
    r.filter = std::string(kEncrypted);
    return r;
  }
  if (r.seen.ip.action == policy::FilterAction::ignore) {
    r.filter = r.seen.ip.explanation;
    return r;
  }
  const std::optional<policy::Envelope> envelope =
      policy::Envelope{m.sender, m.recipients, r.seen.client.address.to_string(), m.helo};
  inspect::Inspection result = inspect::inspect(m.content, envelope, snapshot, store);
  r.disposition = result.disposition;
  r.filter = result.filter;
  r.subject = std::move(result.subject);
  r.problems = std::move(result.problems);
  switch (result.disposition) {
    case inspect::Disposition::ignored:
    case inspect::Disposition::loop:
      break;
    case inspect::Disposition::inspected:
      r.inspected = true;
      r.verdict = std::move(result.verdict);
      if (result.incident) {
        if (result.incident->reference.empty())
          r.incident = result.incident->id;
        else
          r.incident_reference = result.incident->reference;
        r.repeated = result.incident->repeated;
      }
      if (!result.detail.empty()) r.error = result.detail;  // incident not recorded
      break;
    case inspect::Disposition::unparsable:
    case inspect::Disposition::failed:
    case inspect::Disposition::scan_failed:
      r.error = result.detail.empty() ? "inspection failed" : result.detail;
      break;
  }
  return r;
}

nlohmann::json to_json(const Record& r) {
  const auto& s = r.seen;
  const auto& m = s.message;
  nlohmann::json j = {
      {"time", rfc3339(s.time)},
      {"session", session_of(s)},
      {"sender", m.sender},
      {"recipients", m.recipients},
      {"inspected", r.inspected},
      {"filter", r.filter},
      {"tls", m.encrypted},
      {"complete", m.complete},
      {"verdict", policy::to_string(r.verdict.action)},
      {"policies", inspect::policies_json(r.verdict)},
      {"incident", r.incident ? nlohmann::json(*r.incident) : nlohmann::json(nullptr)},
  };
  j["connection"] = s.connection;
  if (!m.complete) j["incomplete"] = m.incomplete;
  j["reply"] = m.reply ? nlohmann::json(*m.reply) : nlohmann::json(nullptr);
  j["size"] = m.content.size();
  if (m.bdat) j["bdat"] = true;
  if (!r.subject.empty()) j["subject"] = r.subject;
  if (!r.incident_reference.empty()) j["incident_reference"] = r.incident_reference;
  if (r.repeated) j["repeated"] = true;
  if (!r.problems.empty()) j["problems"] = mime::problem_texts(r.problems);
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

std::string to_text(const Record& r) {
  const auto& s = r.seen;
  const auto& m = s.message;
  std::string rcpts;
  for (const auto& a : m.recipients) rcpts += (rcpts.empty() ? "" : ",") + a;
  std::string out =
      fmt::format("{} {} from=<{}> to=<{}> {}", rfc3339(s.time), session_of(s), m.sender, rcpts,
                  r.inspected ? std::string(policy::to_string(r.verdict.action))
                              : std::string("not inspected"));
  if (r.incident) out += fmt::format(" incident={}{}", *r.incident, r.repeated ? " (repeat)" : "");
  if (!r.incident_reference.empty()) out += " incident=" + r.incident_reference + " (outbox)";
  out += "\n  filter: " + r.filter;
  if (!m.complete) out += "\n  incomplete: " + m.incomplete;
  if (!r.error.empty()) out += "\n  error: " + r.error;
  for (const auto& p : r.verdict.policies) {
    out += fmt::format("\n  policy \"{}\" ({})", p.name, policy::to_string(p.severity));
    for (const auto& match : p.matches) {
      std::string samples;
      for (const auto& x : match.samples) samples += (samples.empty() ? "" : ", ") + x;
      out += fmt::format("\n    {} in {}: {} unique [{}]", match.rule, match.component, match.count,
                         samples);
    }
  }
  for (const auto& problem : r.problems) out += "\n  not inspected: " + problem.detail;
  return out;
}

namespace {
constexpr std::string_view kMessagesHelp = "SMTP messages the monitor saw, by result";
}

Metrics::Metrics(util::Metrics& registry)
    : packets(registry.counter("cordon_monitor_packets_total", "Frames captured")),
      bytes(registry.counter("cordon_monitor_bytes_total", "Bytes of the frames captured")),
      sessions(registry.counter("cordon_monitor_sessions_total", "TCP connections followed")),
      messages(registry.counter("cordon_monitor_messages_total", kMessagesHelp, "result=\"all\"")),
      inspected(
          registry.counter("cordon_monitor_messages_total", kMessagesHelp, "result=\"inspected\"")),
      ignored(
          registry.counter("cordon_monitor_messages_total", kMessagesHelp, "result=\"ignored\"")),
      encrypted(
          registry.counter("cordon_monitor_messages_total", kMessagesHelp, "result=\"encrypted\"")),
      incomplete(
          registry.counter("cordon_monitor_incomplete_messages_total",
                           "Messages with bytes missing (a gap, a cut connection, a limit)")),
      gaps(registry.counter("cordon_monitor_gaps_total",
                            "Stream holes: bytes the peer acknowledged that the capture lost")),
      drops(registry.counter("cordon_monitor_drops_total",
                             "Packets the kernel or interface dropped (pcap statistics)")),
      undecodable(registry.counter("cordon_monitor_undecodable_total",
                                   "Frames that were not IP/TCP or could not be decoded")),
      incidents(registry.counter("cordon_monitor_incidents_total",
                                 "Incidents recorded (new or repeated)")),
      errors(registry.counter("cordon_monitor_errors_total",
                              "Messages that could not be judged (parse or scan failure)")) {}

void Metrics::update(const EngineStats& s, std::uint64_t dropped) {
  auto bump = [](util::Counter& c, std::uint64_t now, std::uint64_t before) {
    if (now > before) c.inc(now - before);
  };
  bump(packets, s.capture.packets, last_.capture.packets);
  bump(bytes, s.capture.bytes, last_.capture.bytes);
  bump(sessions, s.capture.connections, last_.capture.connections);
  bump(gaps, s.capture.gaps, last_.capture.gaps);
  bump(undecodable, s.capture.undecodable, last_.capture.undecodable);
  bump(drops, dropped, last_dropped_);
  last_ = s;
  last_dropped_ = std::max(dropped, last_dropped_);
}

void Metrics::count(const Record& r) {
  messages.inc();
  if (r.seen.message.encrypted)
    encrypted.inc();
  else if (r.inspected)
    inspected.inc();
  else if (r.error.empty())
    ignored.inc();
  if (!r.seen.message.complete && !r.seen.message.encrypted) incomplete.inc();
  if (r.incident || !r.incident_reference.empty()) incidents.inc();
  if (!r.error.empty() && !r.inspected) errors.inc();
}

}  // namespace cordon::monitor
