// The console REST API handlers; see detail/api.hpp and docs/console-api.md.
#include "console/detail/api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <future>

#include "config/config.hpp"
#include "console/auth.hpp"
#include "console/query.hpp"
#include "incidents/json.hpp"

namespace cordon::console {
namespace {

namespace inc = cordon::incidents;

constexpr std::size_t kMaxExport = 100000;

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

void Api::get_incident(httplib::Response& res, const std::string& id_text, bool content) {
  auto id = parse_id(id_text);
  if (!id) return send_error(res, 404, "no such incident");
  auto incident = store_.get(*id);
  if (!incident) return send_store_error(res, incident.error());
  auto out = inc::to_json(*incident);
  // Masked, but still the message itself: only for the content permission.
  if (!content) {
    out["content_hidden"] = true;
  } else {
    out["content_hidden"] = false;
    if (!incident->headers.empty()) out["headers"] = incident->headers;
    if (!incident->preview.empty()) out["preview"] = incident->preview;
  }
  send_json(res, 200, out);
}

Result<Api::ChangeRequest, std::string> Api::parse_change(
    const nlohmann::json& body, std::initializer_list<const char*> extra) {
  if (!body.is_object())
    return fail(std::string("expected a JSON object {\"status\", \"assignee\", \"comment\"}"));
  for (const auto& [key, value] : body.items()) {
    bool known = key == "status" || key == "comment" || key == "assignee";
    for (const char* e : extra) known = known || key == e;
    if (!known) return fail("unknown field '" + key + "'");
  }
  ChangeRequest out;
  if (body.contains("status")) {
    if (!body["status"].is_string()) return fail(std::string("status must be a string"));
    out.status = inc::parse_status(body["status"].get<std::string>());
    if (!out.status)
      return fail(std::string("status must be new, in_progress, resolved or false_positive"));
  }
  if (body.contains("assignee")) {
    if (!body["assignee"].is_string())
      return fail(std::string("assignee must be a user name (\"\" for nobody)"));
    out.assignee = body["assignee"].get<std::string>();
    if (!out.assignee->empty()) {
      auto users = store_.users();
      if (!users) return fail(std::string("the incident store failed"));
      bool found = false;
      for (const auto& u : *users) found = found || u.name == *out.assignee;
      if (!found) return fail("no console user '" + out.assignee->substr(0, 64) + "'");
    }
  }
  if (body.contains("comment") && !body["comment"].is_string())
    return fail(std::string("comment must be a string"));
  out.comment = body.value("comment", "");
  if (out.comment.size() > 4000) return fail(std::string("comment is longer than 4000 bytes"));
  if (!out.status && !out.assignee && out.comment.empty())
    return fail(std::string("give a status, an assignee, a comment, or more"));
  return out;
}

std::pair<int, std::string> Api::apply_change(inc::IncidentId id, const ChangeRequest& change,
                                              const std::string& user) {
  auto current = store_.get(id);
  if (!current) {
    if (current.error().code == inc::StoreErrorCode::not_found) return {404, "no such incident"};
    spdlog::error("console: incident store: {}", current.error().message);
    return {status_for(current.error()), "the incident store failed"};
  }
  const auto status = change.status.value_or(current->status);
  if (!transition_allowed(current->status, status))
    return {409, "an incident cannot go from " + std::string(inc::to_string(current->status)) +
                     " to " + std::string(inc::to_string(status))};
  inc::IncidentChange c{status, change.assignee, change.comment, user, inc::Clock::now()};
  if (auto ok = store_.change(id, c); !ok) {
    if (ok.error().code == inc::StoreErrorCode::not_found) return {404, "no such incident"};
    spdlog::error("console: incident store: {}", ok.error().message);
    return {status_for(ok.error()), "the incident store failed"};
  }
  if (change.assignee)
    spdlog::info("console: {} set incident {} to {}, assigned to '{}'", user, id,
                 inc::to_string(status), *change.assignee);
  else
    spdlog::info("console: {} set incident {} to {}", user, id, inc::to_string(status));
  return {0, {}};
}

void Api::patch_incident(const httplib::Request& req, httplib::Response& res,
                         const std::string& id_text, const std::string& user) {
  auto id = parse_id(id_text);
  if (!id) return send_error(res, 404, "no such incident");
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded())
    return send_error(res, 400, "expected a JSON object {\"status\", \"assignee\", \"comment\"}");
  auto change = parse_change(body, {});
  if (!change) return send_error(res, 400, change.error());
  if (auto [code, message] = apply_change(*id, *change, user); code != 0)
    return send_error(res, code, message);
  auto updated = store_.get(*id);
  if (!updated) return send_store_error(res, updated.error());
  send_json(res, 200, inc::to_json(*updated));
}

void Api::bulk_change(const httplib::Request& req, httplib::Response& res,
                      const std::string& user) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("ids") || !body["ids"].is_array())
    return send_error(res, 400,
                      "expected a JSON object {\"ids\": [...], \"status\", \"assignee\", "
                      "\"comment\"}");
  const auto& ids = body["ids"];
  if (ids.empty() || ids.size() > kMaxPageSize)
    return send_error(res, 400,
                      "ids must list 1 to " + std::to_string(kMaxPageSize) + " incidents");
  std::vector<inc::IncidentId> parsed;
  for (const auto& id : ids) {
    if (!id.is_number_integer() || id.get<std::int64_t>() <= 0)
      return send_error(res, 400, "ids must be incident numbers");
    parsed.push_back(id.get<std::int64_t>());
  }
  auto change = parse_change(body, {"ids"});
  if (!change) return send_error(res, 400, change.error());
  nlohmann::json results = nlohmann::json::array();
  std::size_t done = 0;
  for (auto id : parsed) {
    auto [code, message] = apply_change(id, *change, user);
    if (code == 0) {
      ++done;
      results.push_back({{"id", id}, {"ok", true}});
    } else {
      results.push_back({{"id", id}, {"ok", false}, {"status", code}, {"error", message}});
    }
  }
  send_json(res, 200, {{"changed", done}, {"failed", parsed.size() - done}, {"results", results}});
}

namespace {

// One CSV field (RFC 4180). A field a spreadsheet would run as a formula
// (=, +, -, @, tab, CR first) is prefixed with ' so opening an export
// cannot execute what a sender put in a subject.
std::string csv_field(std::string_view value) {
  std::string text(value);
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos)
    text.insert(text.begin(), '\'');
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void Api::export_csv(const httplib::Request& req, httplib::Response& res) {
  Params params;
  for (const auto& [name, value] : req.params)
    if (name != "page" && name != "limit") params.emplace(name, value);
  auto request = parse_list_request(params);
  if (!request) return send_error(res, 400, request.error());
  request->query.limit = kMaxExport;
  request->query.offset = 0;
  auto items = store_.list(request->query);
  if (!items) return send_store_error(res, items.error());
  std::string out =
      "id,time,last_seen,severity,status,assignee,action,sender,recipients,subject,policies,"
      "repeat_count\r\n";
  for (const auto& i : *items) {
    std::string recipients, policies;
    for (const auto& r : i.recipients) recipients += (recipients.empty() ? "" : " ") + r;
    for (const auto& p : i.policies) policies += (policies.empty() ? "" : "; ") + p.name;
    for (const std::string& field :
         {std::to_string(i.id), inc::format_rfc3339(i.time), inc::format_rfc3339(i.last_seen),
          std::string(inc::to_string(i.max_severity())), std::string(inc::to_string(i.status)),
          i.assignee, std::string(inc::to_string(i.action)), i.sender, recipients, i.subject,
          policies, std::to_string(i.repeat_count)}) {
      out += csv_field(field);
      out += ',';
    }
    out.back() = '\r';
    out += '\n';
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Disposition", "attachment; filename=\"incidents.csv\"");
  res.set_content(std::move(out), "text/csv; charset=utf-8");
}

void Api::assignees(httplib::Response& res) {
  auto users = store_.users();
  if (!users) return send_store_error(res, users.error());
  nlohmann::json names = nlohmann::json::array();
  for (const auto& u : *users) names.push_back(u.name);
  send_json(res, 200, {{"assignees", names}});
}

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@')) return false;
  return true;
}

nlohmann::json filters_json(const std::vector<inc::SavedFilter>& filters) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : filters) out.push_back({{"name", f.name}, {"query", f.query}});
  return out;
}

}  // namespace

void Api::list_filters(httplib::Response& res, const std::string& user) {
  auto filters = store_.saved_filters(user);
  if (!filters) return send_store_error(res, filters.error());
  send_json(res, 200, {{"filters", filters_json(*filters)}});
}

void Api::put_filter(const httplib::Request& req, httplib::Response& res, const std::string& user,
                     const std::string& name) {
  if (name.empty() || name.size() > 100)
    return send_error(res, 400, "a filter name is 1 to 100 bytes");
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("query") ||
      !body["query"].is_string() || body.size() != 1)
    return send_error(res, 400, "expected a JSON object {\"query\"}");
  auto query = body["query"].get<std::string>();
  if (query.size() > 2000) return send_error(res, 400, "query is longer than 2000 bytes");
  // Saved only when GET /incidents would accept it.
  httplib::Params params;
  httplib::detail::parse_query_text(query, params);
  Params checked(params.begin(), params.end());
  if (auto ok = parse_list_request(checked); !ok) return send_error(res, 400, ok.error());
  if (auto ok = store_.put_saved_filter(user, {name, query}); !ok)
    return send_store_error(res, ok.error());
  list_filters(res, user);
}

void Api::delete_filter(httplib::Response& res, const std::string& user, const std::string& name) {
  if (auto ok = store_.delete_saved_filter(user, name); !ok) {
    if (ok.error().code == inc::StoreErrorCode::not_found)
      return send_error(res, 404, "no such saved filter");
    return send_store_error(res, ok.error());
  }
  list_filters(res, user);
}

void Api::list_users(httplib::Response& res) {
  auto users = store_.users();
  if (!users) return send_store_error(res, users.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& u : *users) out.push_back({{"name", u.name}, {"role", u.role}});
  send_json(res, 200, {{"users", out}});
}

namespace {

Result<std::string, std::string> role_of(const nlohmann::json& body, std::string fallback) {
  if (!body.contains("role")) return fallback;
  if (!body["role"].is_string() || (body["role"] != "admin" && body["role"] != "analyst"))
    return fail(std::string("role must be analyst or admin"));
  return body["role"].get<std::string>();
}

Result<std::optional<std::string>, std::string> password_of(const nlohmann::json& body) {
  if (!body.contains("password")) return std::optional<std::string>();
  if (!body["password"].is_string() || body["password"].get<std::string>().size() < 12 ||
      body["password"].get<std::string>().size() > 1024)
    return fail(std::string("password must be a string of 12 to 1024 bytes"));
  return std::optional<std::string>(body["password"].get<std::string>());
}

}  // namespace

void Api::create_user(const httplib::Request& req, httplib::Response& res, const std::string& by) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("name") ||
      !body["name"].is_string())
    return send_error(res, 400, "expected a JSON object {\"name\", \"password\", \"role\"}");
  for (const auto& [key, value] : body.items())
    if (key != "name" && key != "password" && key != "role")
      return send_error(res, 400, "unknown field '" + key + "'");
  auto name = body["name"].get<std::string>();
  if (!valid_name(name))
    return send_error(res, 400, "name must be 1 to 64 letters, digits or . _ - @");
  auto role = role_of(body, "analyst");
  if (!role) return send_error(res, 400, role.error());
  auto password = password_of(body);
  if (!password) return send_error(res, 400, password.error());
  if (!*password) return send_error(res, 400, "password is required");
  auto put = store_.put_user({name, hash_password(**password), *role}, false);
  if (!put) return send_store_error(res, put.error());
  if (!*put) return send_error(res, 409, "a user of that name exists");
  spdlog::info("console: {} created user {} ({})", by, name, *role);
  send_json(res, 201, {{"name", name}, {"role", *role}});
}

void Api::patch_user(const httplib::Request& req, httplib::Response& res, const std::string& name,
                     const std::string& by) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return send_error(res, 400, "expected a JSON object {\"password\", \"role\"}");
  for (const auto& [key, value] : body.items())
    if (key != "password" && key != "role")
      return send_error(res, 400, "unknown field '" + key + "'");
  auto users = store_.users();
  if (!users) return send_store_error(res, users.error());
  auto it = std::find_if(users->begin(), users->end(), [&](auto& u) { return u.name == name; });
  if (it == users->end()) return send_error(res, 404, "no such user");
  auto role = role_of(body, it->role);
  if (!role) return send_error(res, 400, role.error());
  auto password = password_of(body);
  if (!password) return send_error(res, 400, password.error());
  if (name == by && *role != "admin")
    return send_error(res, 409, "an admin cannot take the admin role from themselves");
  inc::ConsoleUser updated{name, *password ? hash_password(**password) : it->password_hash, *role};
  if (auto put = store_.put_user(updated, true); !put) return send_store_error(res, put.error());
  spdlog::info("console: {} changed user {} ({}{})", by, name, *role,
               *password ? ", new password" : "");
  send_json(res, 200, {{"name", name}, {"role", *role}});
}

void Api::delete_user(httplib::Response& res, const std::string& name, const std::string& by) {
  if (name == by) return send_error(res, 409, "an admin cannot delete themselves");
  if (auto ok = store_.delete_user(name); !ok) {
    if (ok.error().code == inc::StoreErrorCode::not_found)
      return send_error(res, 404, "no such user");
    return send_store_error(res, ok.error());
  }
  spdlog::info("console: {} deleted user {}", by, name);
  send_json(res, 200, {{"status", "ok"}});
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
  nlohmann::json reload = {{"available", deps_.reload_unavailable.empty()}};
  if (!deps_.reload_unavailable.empty()) reload["reason"] = deps_.reload_unavailable;
  send_json(res, 200,
            {{"source", config->source},
             {"roles", roles},
             {"policies", policies},
             {"filters", filters},
             {"reload", reload}});
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
  nlohmann::json per_hour = nlohmann::json::array();
  for (const auto& d : stats->by_severity_per_hour)
    per_hour.push_back(
        {{"hour", d.day}, {"severity", inc::to_string(d.severity)}, {"count", d.count}});
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
             {"by_severity_per_hour", per_hour},
             {"top_senders", counts(stats->top_senders, "sender")},
             {"top_recipient_domains", counts(stats->top_recipient_domains, "domain")},
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
