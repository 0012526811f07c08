// Query-parameter parsing, the status workflow and message counters for the
// console API; see query.hpp.
#include "console/query.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <set>

namespace cordon::console {
namespace {

namespace inc = cordon::incidents;

std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Result<std::size_t, std::string> positive(const std::string& name, const std::string& text,
                                          std::size_t max) {
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > max)
    return fail(name + " must be a number from 1 to " + std::to_string(max));
  return value;
}

}  // namespace

std::optional<inc::Clock::time_point> parse_time(std::string_view text) {
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(*month),
                                   std::chrono::day(*day)};
  if (!date.ok()) return std::nullopt;
  auto time = inc::Clock::time_point(std::chrono::sys_days(date));
  if (text.size() == 10) return time;
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return std::nullopt;
  auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (!hour || !minute || !second || text[13] != ':' || text[16] != ':' || *hour > 23 ||
      *minute > 59 || *second > 60)
    return std::nullopt;
  time += std::chrono::hours(*hour) + std::chrono::minutes(*minute) + std::chrono::seconds(*second);
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;  // second precision
  }
  std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z") return time;
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    auto oh = digits(zone, 1, 2), om = digits(zone, 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    auto offset = std::chrono::hours(*oh) + std::chrono::minutes(*om);
    return zone[0] == '+' ? time - offset : time + offset;
  }
  return std::nullopt;
}

Result<ListRequest, std::string> parse_list_request(const Params& params) {
  static const std::set<std::string, std::less<>> kKnown = {"from",      "until",
                                                            "policy",    "severity",
                                                            "status",    "sender",
                                                            "recipient", "action",
                                                            "q",         "page",
                                                            "limit",     "sort",
                                                            "order",     "sender_contains",
                                                            "subject",   "policy_contains",
                                                            "assignee"};
  ListRequest out;
  auto& q = out.query;
  q.limit = kDefaultPageSize;
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, value] : params) {
    if (!kKnown.contains(name)) return fail("unknown parameter '" + name + "'");
    if (!seen.insert(name).second) return fail("parameter '" + name + "' given twice");
    // An empty value means "no filter", which is what a blank form field sends.
    if (value.empty()) continue;
    if (name == "from" || name == "until") {
      auto t = parse_time(value);
      if (!t) return fail(name + " must be a date (YYYY-MM-DD) or an RFC 3339 time");
      (name == "from" ? q.from : q.until) = *t;
    } else if (name == "policy") {
      q.policy = value;
    } else if (name == "severity") {
      q.severity = inc::parse_severity(value);
      if (!q.severity) return fail(std::string("severity must be info, low, medium or high"));
    } else if (name == "status") {
      q.status = inc::parse_status(value);
      if (!q.status)
        return fail(std::string("status must be new, in_progress, resolved or false_positive"));
    } else if (name == "action") {
      q.action = inc::parse_action(value);
      if (!q.action)
        return fail(std::string("action must be block, redirect, modify, pass, monitored or hold"));
    } else if (name == "sender") {
      q.sender = value;
    } else if (name == "recipient") {
      q.recipient = value;
    } else if (name == "q") {
      q.text = value;
    } else if (name == "sender_contains") {
      q.sender_contains = value;
    } else if (name == "subject") {
      q.subject_contains = value;
    } else if (name == "policy_contains") {
      q.policy_contains = value;
    } else if (name == "assignee") {
      // "-" asks for the unassigned ones (an empty value is no filter).
      q.assignee = value == "-" ? std::string() : value;
    } else if (name == "page") {
      auto page = positive("page", value, 1000000);
      if (!page) return fail(page.error());
      out.page = *page;
    } else if (name == "limit") {
      auto limit = positive("limit", value, kMaxPageSize);
      if (!limit) return fail(limit.error());
      q.limit = *limit;
    } else if (name == "sort") {
      static const std::map<std::string, inc::SortKey, std::less<>> kSorts = {
          {"id", inc::SortKey::id},
          {"time", inc::SortKey::time},
          {"last_seen", inc::SortKey::last_seen},
          {"severity", inc::SortKey::severity},
          {"repeat_count", inc::SortKey::repeat_count}};
      auto it = kSorts.find(value);
      if (it == kSorts.end())
        return fail(std::string("sort must be id, time, last_seen, severity or repeat_count"));
      q.sort = it->second;
    } else if (name == "order") {
      if (value != "asc" && value != "desc") return fail(std::string("order must be asc or desc"));
      q.descending = value == "desc";
    }
  }
  q.offset = (out.page - 1) * q.limit;
  return out;
}

bool transition_allowed(inc::IncidentStatus from, inc::IncidentStatus to) {
  using S = inc::IncidentStatus;
  if (from == to) return true;
  switch (from) {
    case S::new_:
      return true;
    case S::in_progress:
      return to == S::resolved || to == S::false_positive;
    case S::resolved:
    case S::false_positive:
      return to == S::in_progress;
  }
  return false;
}

std::optional<double> sum_samples(std::string_view text, std::string_view family,
                                  std::string_view label_filter) {
  std::optional<double> sum;
  for (const auto& s : family_samples(text, family)) {
    if (!label_filter.empty() && s.labels.find(label_filter) == std::string::npos) continue;
    sum = sum.value_or(0) + s.value;
  }
  return sum;
}

std::string label_value(std::string_view labels, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  std::size_t at = 0;
  while ((at = labels.find(key, at)) != std::string_view::npos) {
    if (at == 0 || labels[at - 1] == ',') {
      auto start = at + key.size();
      auto end = labels.find('"', start);
      return std::string(labels.substr(start, end == std::string_view::npos ? end : end - start));
    }
    at += key.size();
  }
  return {};
}

std::vector<Sample> family_samples(std::string_view text, std::string_view family) {
  std::vector<Sample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#' || !line.starts_with(family)) continue;
    std::string_view rest = line.substr(family.size());
    std::string_view labels;
    if (!rest.empty() && rest[0] == '{') {
      auto close = rest.find('}');
      if (close == std::string_view::npos) continue;
      labels = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
    }
    // Another family that merely starts with this name (e.g. _bucket).
    if (rest.empty() || rest[0] != ' ') continue;
    std::string value(rest.substr(1));
    char* parsed_end = nullptr;
    double v = std::strtod(value.c_str(), &parsed_end);
    if (parsed_end == value.c_str()) continue;
    out.push_back({std::string(labels), v});
  }
  return out;
}

nlohmann::json message_counters(std::string_view text) {
  // The counters the gateway and prevent roles register. Prevent counts each
  // message once as already_inspected, ignored (by the L7 filters) or
  // inspected, and each inspected one again by its outcome. With a gateway
  // in the same process, what clients handed it is what was received (prevent
  // sees the same messages again).
  auto value = [&](std::string_view family, std::string_view labels = {}) {
    return sum_samples(text, family, labels);
  };
  auto prevent = [&](std::string_view result) {
    return value("cordon_prevent_messages_total", "result=\"" + std::string(result) + "\"")
        .value_or(0);
  };
  auto received = value("cordon_gateway_received_total", "listener=\"client\"");
  if (!received)
    received = prevent("inspected") + prevent("ignored") + prevent("already_inspected");
  return {
      {"received", *received},         {"inspected", prevent("inspected")},
      {"ignored", prevent("ignored")}, {"blocked", prevent("blocked")},
      {"passed", prevent("passed")},   {"bypassed", value("cordon_dlp_bypass_total").value_or(0)},
  };
}

}  // namespace cordon::console
