// The console API's request parsing and response shaping that needs no HTTP:
// query parameters to an IncidentQuery, time parsing, the status workflow,
// and the message counters read back from the metrics registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "incidents/store.hpp"
#include "util/result.hpp"

namespace cordon::console {

using Params = std::multimap<std::string, std::string>;

constexpr std::size_t kDefaultPageSize = 50;
constexpr std::size_t kMaxPageSize = 500;

struct ListRequest {
  incidents::IncidentQuery query;
  std::size_t page = 1;  // 1-based
};

// GET /incidents parameters: from, until, policy, severity, status, sender,
// recipient, action, q, page, limit, sort, order, sender_contains, subject,
// policy_contains (case-insensitive substrings) and assignee ("-": nobody). An unknown parameter or
// a bad value is an error naming it (the caller answers 400).
Result<ListRequest, std::string> parse_list_request(const Params& params);

// "2026-11-22T20:23:10Z", with a numeric offset, fractional seconds, or a
// bare date "2026-11-22" (midnight UTC).
std::optional<incidents::Clock::time_point> parse_time(std::string_view text);

// Whether the status workflow allows `from` -> `to`: new -> in_progress ->
// resolved | false_positive; new may close directly; closed ones may be
// reopened to in_progress. Staying in the same status (a comment) is allowed.
bool transition_allowed(incidents::IncidentStatus from, incidents::IncidentStatus to);

// Message counters for the dashboard (received, inspected, blocked, passed,
// bypassed) summed from the Prometheus text the roles' metrics render.
nlohmann::json message_counters(std::string_view prometheus_text);

// Sum of every sample of `family` whose label set contains `label_filter`
// (empty: all samples); nullopt when the family has no sample.
std::optional<double> sum_samples(std::string_view prometheus_text, std::string_view family,
                                  std::string_view label_filter = {});

// Every sample of `family`: its label text (`a="x",b="y"`) and value.
struct Sample {
  std::string labels;
  double value = 0;
};
std::vector<Sample> family_samples(std::string_view prometheus_text, std::string_view family);
// The value of label `name` in a sample's label text; "" when absent.
std::string label_value(std::string_view labels, std::string_view name);

}  // namespace cordon::console
