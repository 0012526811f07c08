// Text forms of the incident enums and the RFC 3339 formatter.
#include "incidents/incident.hpp"

#include <array>
#include <ctime>

namespace cordon::incidents {
namespace {

constexpr std::array<std::string_view, 6> kActions = {"block", "redirect",  "modify",
                                                      "pass",  "monitored", "hold"};
constexpr std::array<std::string_view, 4> kStatuses = {"new", "in_progress", "resolved",
                                                       "false_positive"};
constexpr std::array<std::string_view, 4> kSeverities = {"info", "low", "medium", "high"};

template <class Enum, std::size_t N>
std::optional<Enum> find(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Action a) {
  return kActions[static_cast<std::size_t>(a)];
}
std::string_view to_string(IncidentStatus s) {
  return kStatuses[static_cast<std::size_t>(s)];
}
std::string_view to_string(Severity s) {
  return kSeverities[static_cast<std::size_t>(s)];
}
std::optional<Action> parse_action(std::string_view t) {
  if (t == "monitor") return Action::monitor;  // the spelling of earlier releases
  return find<Action>(kActions, t);
}
std::optional<IncidentStatus> parse_status(std::string_view t) {
  return find<IncidentStatus>(kStatuses, t);
}
std::optional<Severity> parse_severity(std::string_view t) {
  return find<Severity>(kSeverities, t);
}

Severity Incident::max_severity() const {
  Severity worst = Severity::info;
  for (const auto& p : policies)
    if (p.severity > worst) worst = p.severity;
  return worst;
}

std::string format_rfc3339(Clock::time_point time) {
  const std::time_t t = Clock::to_time_t(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

}  // namespace cordon::incidents
