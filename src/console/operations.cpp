// The console's operations views: the gateway's queue (list, hold, release,
// delete, flush) and the server's health. The queue actions are the ones
// `cordon queue` performs (cli/cmd_queue.cpp), on the same spool
// directories and recorded the same way, so a running gateway logs them
// whichever process made them. Health is read from the metrics registry
// /metrics renders, so the two never disagree.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <string>

#include "config/config.hpp"
#include "console/detail/api.hpp"
#include "console/query.hpp"
#include "queue/operator_actions.hpp"
#include "queue/spool.hpp"
#include "queue/time_format.hpp"

namespace cordon::console {
namespace {

namespace q = cordon::queue;

nlohmann::json message_json(const std::string& id, std::string_view state, const q::Envelope& e) {
  nlohmann::json recipients = nlohmann::json::array();
  for (const auto& r : e.recipients)
    recipients.push_back({{"address", r.address}, {"state", std::string(q::to_string(r.state))}});
  nlohmann::json last = nullptr;
  if (!e.trace.empty())
    last = {{"time", q::format_rfc3339(e.trace.back().time)},
            {"event", e.trace.back().event},
            {"detail", e.trace.back().detail}};
  return {{"id", id},
          {"state", std::string(state)},
          {"sender", e.sender},
          {"recipients", std::move(recipients)},
          {"size", e.content_size},
          {"arrival", q::format_rfc3339(e.arrival)},
          {"attempts", e.attempts},
          {"next_attempt", q::format_rfc3339(e.next_attempt)},
          {"last", std::move(last)}};
}

int http_status(const q::SpoolFailure& failure) {
  switch (failure.code) {
    case q::SpoolError::not_found:
      return 404;
    case q::SpoolError::invalid_id:
      return 400;
    case q::SpoolError::invalid_state:
      return 409;
    default:
      return 500;
  }
}

void send_spool_error(httplib::Response& res, const q::SpoolFailure& failure) {
  const int status = http_status(failure);
  if (status == 500) {
    // The detail names paths and OS errors: for the log, not the client.
    spdlog::error("console: queue: {}: {}", q::to_string(failure.code), failure.detail);
    return send_error(res, 500, "the queue could not be read or changed");
  }
  send_error(res, status, failure.detail);
}

}  // namespace

std::optional<std::filesystem::path> Api::queue_data_dir() {
  auto config = deps_.config();
  std::error_code ec;
  std::filesystem::path dir(config->data_dir);
  if (!std::filesystem::is_directory(dir / "queue", ec)) return std::nullopt;
  return dir;
}

void Api::queue_list(httplib::Response& res) {
  auto config = deps_.config();
  nlohmann::json out = {{"gateway", config->gateway.has_value()},
                        {"messages", nlohmann::json::array()},
                        {"quarantined", nlohmann::json::array()}};
  // No queue yet is an empty queue; listing must not create it.
  auto dir = queue_data_dir();
  if (!dir) return send_json(res, 200, out);
  auto spool = q::Spool::open({*dir, 0});
  if (!spool) return send_spool_error(res, spool.error());
  auto messages = spool->list();
  if (!messages) return send_spool_error(res, messages.error());
  auto corrupt = spool->list_corrupt();
  if (!corrupt) return send_spool_error(res, corrupt.error());
  for (const auto& m : *messages)
    out["messages"].push_back(message_json(m.id, q::to_string(m.state), m.envelope));
  for (const auto& c : *corrupt) {
    q::Envelope none;
    none.next_attempt = c.time;
    auto entry = message_json(c.name, "corrupt", c.envelope ? *c.envelope : none);
    entry["quarantine"] = {
        {"reason", c.damage ? std::string(q::to_string(*c.damage)) : std::string("unknown")},
        {"detail", c.detail},
        {"from", c.from},
        {"time", q::format_rfc3339(c.time)}};
    out["quarantined"].push_back(std::move(entry));
  }
  send_json(res, 200, out);
}

void Api::queue_action(httplib::Response& res, const std::string& verb, const std::string& id,
                       const std::string& user) {
  auto dir = queue_data_dir();
  if (!dir) {
    if (verb == "flush") return send_json(res, 200, {{"status", "ok"}, {"flushed", 0}});
    return send_error(res, 404, "no message " + id + " in the queue");
  }
  auto spool = q::Spool::open({*dir, 0});
  if (!spool) return send_spool_error(res, spool.error());
  const auto now = std::chrono::system_clock::now();
  std::size_t count = 1;
  nlohmann::json body = {{"status", "ok"}};
  if (verb == "hold") {
    auto held = spool->hold(id, now);
    if (!held) return send_spool_error(res, held.error());
    body["was"] = std::string(q::to_string(*held));
    if (*held == q::QueueState::hold) return send_json(res, 200, body);  // nothing changed
  } else if (verb == "release") {
    auto released = spool->release(id, now);
    if (!released) return send_spool_error(res, released.error());
  } else if (verb == "delete") {
    auto removed = spool->remove(id);
    if (!removed) return send_spool_error(res, removed.error());
  } else {
    auto flushed = spool->flush(now);
    if (!flushed) return send_spool_error(res, flushed.error());
    count = *flushed;
    body["flushed"] = count;
  }
  spdlog::info("console: {} queue {} {}", user, verb, verb == "flush" ? "" : id);
  // The action has happened: a record the gateway cannot get is a warning.
  auto recorded =
      q::record_operator_action(spool->root(), {verb, verb == "flush" ? "" : id, count, now});
  if (!recorded)
    spdlog::warn("console: the gateway's log will not show {} {}: {}", verb, id, recorded.error());
  send_json(res, 200, body);
}

void Api::health(httplib::Response& res) {
  auto config = deps_.config();
  const std::string text = deps_.metrics.render_prometheus();
  nlohmann::json roles = nlohmann::json::array();
  for (auto role : config->roles()) roles.push_back(config::to_string(role));

  nlohmann::json listeners = nlohmann::json::array();
  auto listener = [&](const char* role, const char* name, const config::HostPort& at,
                      std::optional<double> received) {
    nlohmann::json l = {{"role", role}, {"name", name}, {"address", at.to_string()}};
    if (received) l["received"] = *received;
    listeners.push_back(std::move(l));
  };
  auto received = [&](const char* name) {
    return sum_samples(text, "cordon_gateway_received_total",
                       "listener=\"" + std::string(name) + "\"")
        .value_or(0);
  };
  if (config->gateway) {
    listener("gateway", "client", config->gateway->listen, received("client"));
    listener("gateway", "resubmit", config->gateway->resubmit_listen, received("resubmit"));
  }
  if (config->prevent) listener("prevent", "smtp", config->prevent->listen, std::nullopt);
  if (config->milter) listener("milter", "milter", config->milter->listen, std::nullopt);
  if (config->console) listener("console", "http", config->console->listen, std::nullopt);

  // The gateway sets cordon_dlp_breaker_state{host} after each attempt;
  // a host it has not tried yet has a closed breaker.
  std::map<std::string, std::string> breakers;
  for (const auto& s : family_samples(text, "cordon_dlp_breaker_state")) {
    if (s.value <= 0) continue;
    breakers[label_value(s.labels, "host")] = label_value(s.labels, "state");
  }
  nlohmann::json dlp = nlohmann::json::array();
  if (config->gateway)
    for (const auto& h : config->gateway->dlp.hosts) {
      auto name = h.to_string();
      auto it = breakers.find(name);
      dlp.push_back({{"host", name}, {"breaker", it == breakers.end() ? "closed" : it->second}});
    }
  double bypassed = 0;
  nlohmann::json by_reason = nlohmann::json::object();
  for (const auto& s : family_samples(text, "cordon_dlp_bypass_total")) {
    auto reason = label_value(s.labels, "reason");
    by_reason[reason] = by_reason.value(reason, 0.0) + s.value;
    bypassed += s.value;
  }
  double fail_closed = sum_samples(text, "cordon_dlp_fail_closed_total").value_or(0);
  send_json(
      res, 200,
      {{"roles", roles},
       {"listeners", listeners},
       {"dlp_hosts", dlp},
       {"dlp_bypass", config->gateway ? config->gateway->dlp.bypass : false},
       {"bypassed", {{"total", bypassed}, {"by_reason", by_reason}}},
       {"fail_closed", fail_closed},
       {"queue",
        {{"incoming", sum_samples(text, "cordon_queue_messages", "state=\"incoming\"").value_or(0)},
         {"deferred", sum_samples(text, "cordon_queue_messages", "state=\"deferred\"").value_or(0)},
         {"hold", sum_samples(text, "cordon_queue_messages", "state=\"hold\"").value_or(0)}}}});
}

}  // namespace cordon::console
