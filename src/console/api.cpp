// The console REST API handlers; see detail/api.hpp and docs/console-api.md.
#include "console/detail/api.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <future>

#include "config/config.hpp"
#include "console/query.hpp"
#include "incidents/json.hpp"

namespace cordon::console {
namespace {

namespace inc = cordon::incidents;

int status_for(const inc::StoreError& error) {
  switch (error.code) {
    case inc::StoreErrorCode::not_found:
      return 404;
    case inc::StoreErrorCode::busy:
      return 503;
    default:
      return 500;
  }
}

void send_store_error(httplib::Response& res, const inc::StoreError& error) {
  if (error.code != inc::StoreErrorCode::not_found)
    spdlog::error("console: incident store: {}", error.message);
  // The database's own message can name files and SQL; the client learns the kind only.
  send_error(res, status_for(error),
             error.code == inc::StoreErrorCode::not_found ? "no such incident"
             : error.code == inc::StoreErrorCode::busy    ? "the incident store is busy, try again"
                                                          : "the incident store failed");
}

std::optional<inc::IncidentId> parse_id(const std::string& text) {
  inc::IncidentId id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

nlohmann::json components_json(unsigned mask) {
  nlohmann::json out = nlohmann::json::array();
  static constexpr std::pair<unsigned, const char*> kNames[] = {
      {policy::kEnvelope, "envelope"},
      {policy::kSubject, "subject"},
      {policy::kHeaders, "headers"},
      {policy::kBody, "body"},
      {policy::kAttachments, "attachments"}};
  for (auto [bit, name] : kNames)
    if (mask & bit) out.push_back(name);
  return out;
}

nlohmann::json response_json(const policy::Response& response) {
  if (auto* block = std::get_if<policy::BlockResponse>(&response)) return {{"block", block->text}};
  if (auto* redirect = std::get_if<policy::RedirectResponse>(&response))
    return {{"redirect", redirect->address}};
  if (auto* hold = std::get_if<policy::HoldResponse>(&response)) return {{"hold", hold->reason}};
  const auto& modify = std::get<policy::ModifyResponse>(response);
  return {
      {"modify", {{"subject_prefix", modify.subject_prefix}, {"add_headers", modify.add_headers}}}};
}

nlohmann::json policy_json(const policy::Policy& p) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : p.rules) rules.push_back({{"rule", r.display}, {"min_count", r.min_count}});
  nlohmann::json tiers = nlohmann::json::array();
  for (const auto& t : p.severity_tiers)
    tiers.push_back({{"min_count", t.min_count}, {"severity", policy::to_string(t.severity)}});
  nlohmann::json responses = nlohmann::json::array();
  for (const auto& r : p.responses) responses.push_back(response_json(r));
  return {{"name", p.name},
          {"severity", policy::to_string(p.severity)},
          {"severity_tiers", tiers},
          {"components", components_json(p.components)},
          {"match", p.mode == policy::MatchMode::any ? "any" : "all"},
          {"count_scope",
           p.count_scope == policy::CountScope::per_component ? "per_component" : "per_message"},
          {"rules", rules},
          {"except", {{"senders", p.except_senders}, {"recipients", p.except_recipients}}},
          {"responses", responses}};
}

std::string param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

}  // namespace

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Subjects and addresses may hold invalid UTF-8: replace, never throw.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, int status, std::string_view message) {
  send_json(res, status, {{"error", message}});
}

void Api::list_incidents(const httplib::Request& req, httplib::Response& res) {
  auto request = parse_list_request(req.params);
  if (!request) return send_error(res, 400, request.error());
  auto items = store_.list(request->query);
  if (!items) return send_store_error(res, items.error());
  auto total = store_.count(request->query);
  if (!total) return send_store_error(res, total.error());
  send_json(res, 200,
            {{"items", inc::to_json(*items)},
             {"total", *total},
             {"page", request->page},
             {"limit", request->query.limit}});
}

void Api::get_incident(httplib::Response& res, const std::string& id_text) {
  auto id = parse_id(id_text);
  if (!id) return send_error(res, 404, "no such incident");
  auto incident = store_.get(*id);
  if (!incident) return send_store_error(res, incident.error());
  send_json(res, 200, inc::to_json(*incident));
}

void Api::patch_incident(const httplib::Request& req, httplib::Response& res,
                         const std::string& id_text, const std::string& user) {
  auto id = parse_id(id_text);
  if (!id) return send_error(res, 404, "no such incident");
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return send_error(res, 400, "expected a JSON object {\"status\", \"comment\"}");
  for (const auto& [key, value] : body.items())
    if (key != "status" && key != "comment")
      return send_error(res, 400, "unknown field '" + key + "'");
  if (body.contains("status") && !body["status"].is_string())
    return send_error(res, 400, "status must be a string");
  if (body.contains("comment") && !body["comment"].is_string())
    return send_error(res, 400, "comment must be a string");
  std::string comment = body.value("comment", "");
  if (comment.size() > 4000) return send_error(res, 400, "comment is longer than 4000 bytes");
  if (!body.contains("status") && comment.empty())
    return send_error(res, 400, "give a status, a comment, or both");

  auto current = store_.get(*id);
  if (!current) return send_store_error(res, current.error());
  auto status = current->status;
  if (body.contains("status")) {
    auto parsed = inc::parse_status(body["status"].get<std::string>());
    if (!parsed)
      return send_error(res, 400, "status must be new, in_progress, resolved or false_positive");
    status = *parsed;
  }
  if (!transition_allowed(current->status, status))
    return send_error(res, 409,
                      "an incident cannot go from " + std::string(inc::to_string(current->status)) +
                          " to " + std::string(inc::to_string(status)));
  if (auto ok = store_.update_status(*id, status, comment, inc::Clock::now()); !ok)
    return send_store_error(res, ok.error());
  spdlog::info("console: {} set incident {} to {}", user, *id, inc::to_string(status));
  auto updated = store_.get(*id);
  if (!updated) return send_store_error(res, updated.error());
  send_json(res, 200, inc::to_json(*updated));
}

void Api::policies(httplib::Response& res) {
  auto config = deps_.config();
  nlohmann::json policies = nlohmann::json::array();
  for (const auto& p : config->policies) policies.push_back(policy_json(p));
  nlohmann::json filters = nlohmann::json::object();
  if (config->prevent)
    filters["prevent"] = {{"sender", config->prevent->filters.sender},
                          {"recipient", config->prevent->filters.recipient}};
  if (config->monitor)
    filters["monitor"] = {{"sender", config->monitor->filters.sender},
                          {"recipient", config->monitor->filters.recipient}};
  if (config->milter)
    filters["milter"] = {{"sender", config->milter->filters.sender},
                         {"recipient", config->milter->filters.recipient}};
  nlohmann::json roles = nlohmann::json::array();
  for (auto role : config->roles()) roles.push_back(config::to_string(role));
  send_json(
      res, 200,
      {{"source", config->source}, {"roles", roles}, {"policies", policies}, {"filters", filters}});
}

void Api::stats(const httplib::Request& req, httplib::Response& res) {
  for (const auto& [name, value] : req.params)
    if (name != "from" && name != "until" && name != "days")
      return send_error(res, 400, "unknown parameter '" + name + "'");
  auto now = inc::Clock::now();
  std::optional<inc::Clock::time_point> from, until;
  if (auto text = param(req, "from"); !text.empty()) {
    from = parse_time(text);
    if (!from) return send_error(res, 400, "from must be a date (YYYY-MM-DD) or an RFC 3339 time");
  }
  if (auto text = param(req, "until"); !text.empty()) {
    until = parse_time(text);
    if (!until)
      return send_error(res, 400, "until must be a date (YYYY-MM-DD) or an RFC 3339 time");
  }
  if (!from) {
    int days = 30;
    if (auto text = param(req, "days"); !text.empty()) {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
      if (ec != std::errc() || end != text.data() + text.size() || days < 1 || days > 366)
        return send_error(res, 400, "days must be a number from 1 to 366");
    }
    // Whole UTC days, today included.
    auto today = std::chrono::floor<std::chrono::days>(now);
    from = inc::Clock::time_point(today - std::chrono::days(days - 1));
  }
  auto stats = store_.stats(from, until, 10);
  if (!stats) return send_store_error(res, stats.error());

  nlohmann::json per_day = nlohmann::json::array();
  for (const auto& d : stats->by_severity_per_day)
    per_day.push_back(
        {{"day", d.day}, {"severity", inc::to_string(d.severity)}, {"count", d.count}});
  auto counts = [](const std::vector<inc::Count>& list, const char* key) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : list) out.push_back({{key, c.key}, {"count", c.count}});
    return out;
  };
  nlohmann::json by_status = nlohmann::json::object();
  std::int64_t total = 0;
  for (auto s : {inc::IncidentStatus::new_, inc::IncidentStatus::in_progress,
                 inc::IncidentStatus::resolved, inc::IncidentStatus::false_positive}) {
    inc::IncidentQuery q;
    q.from = from;
    q.until = until;
    q.status = s;
    auto n = store_.count(q);
    if (!n) return send_store_error(res, n.error());
    by_status[std::string(inc::to_string(s))] = *n;
    total += *n;
  }
  send_json(res, 200,
            {{"from", inc::format_rfc3339(*from)},
             {"until", inc::format_rfc3339(until.value_or(now))},
             {"total", total},
             {"by_severity_per_day", per_day},
             {"top_policies", counts(stats->top_policies, "policy")},
             {"top_senders", counts(stats->top_senders, "sender")},
             {"by_action", counts(stats->by_action, "action")},
             {"by_status", by_status},
             {"messages", message_counters(deps_.metrics.render_prometheus())}});
}

void Api::reload(httplib::Response& res, const std::string& user) {
  auto result = deps_.reload();
  if (result.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
    return send_error(res, 503, "the reload did not finish in time");
  auto outcome = result.get();
  if (!outcome) {
    spdlog::warn("console: {} asked for a reload; refused: {}", user, outcome.error());
    return send_error(res, 409, outcome.error());
  }
  auto config = deps_.config();
  spdlog::info("console: {} reloaded the configuration", user);
  send_json(res, 200, {{"status", "ok"}, {"policies", config->policies.size()}});
}

}  // namespace cordon::console
