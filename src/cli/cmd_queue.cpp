// `cordon queue`: inspect and manage the gateway's queue (like mailq and
// postsuper). It works on the spool directories directly and may run while
// a gateway is running: every change is an atomic rename, and the gateway
// rescans incoming/ and deferred/ about every second, so a flush or
// release takes effect at its next scan. `list` also shows the entries
// the gateway quarantined in queue/corrupt/ (state "corrupt", with the
// reason), which `delete` removes. Each change is also recorded for the
// running gateway, which logs it (queue/operator_actions.hpp).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/data_dir.hpp"
#include "queue/operator_actions.hpp"
#include "queue/spool.hpp"
#include "queue/time_format.hpp"

namespace cordon::cli {
namespace {

namespace q = cordon::queue;

struct QueueOptions {
  std::string config;
  std::string format = "text";
  std::string id;
};

int error(const std::string& message) {
  std::fprintf(stderr, "cordon queue: %s\n", message.c_str());
  return 2;
}

nlohmann::json to_json(const std::string& id, std::string_view state, const q::Envelope& e) {
  nlohmann::json recipients = nlohmann::json::array();
  for (const auto& r : e.recipients) recipients.push_back(r.address);
  nlohmann::json trace = nlohmann::json::array();
  for (const auto& t : e.trace)
    trace.push_back(
        {{"time", q::format_rfc3339(t.time)}, {"event", t.event}, {"detail", t.detail}});
  return {{"id", id},
          {"sender", e.sender},
          {"recipients", std::move(recipients)},
          {"state", std::string(state)},
          {"attempts", e.attempts},
          {"next_attempt", q::format_rfc3339(e.next_attempt)},
          {"trace", std::move(trace)}};
}

nlohmann::json to_json(const q::QueuedMessage& m) {
  return to_json(m.id, q::to_string(m.state), m.envelope);
}

std::string reason_of(const q::QuarantinedEntry& c) {
  return c.damage ? std::string(q::to_string(*c.damage)) : std::string("unknown");
}

// A quarantined entry: the same keys as a queued message (from its envelope
// when still readable; otherwise empty, and next_attempt is the time it was
// quarantined, since it is never attempted), plus "quarantine".
nlohmann::json to_json(const q::QuarantinedEntry& c) {
  q::Envelope none;
  none.next_attempt = c.time;
  auto out = to_json(c.name, "corrupt", c.envelope ? *c.envelope : none);
  out["quarantine"] = {{"reason", reason_of(c)},
                       {"detail", c.detail},
                       {"from", c.from},
                       {"time", q::format_rfc3339(c.time)}};
  return out;
}

void print_corrupt(const std::vector<q::QuarantinedEntry>& corrupt) {
  if (corrupt.empty()) return;
  std::printf(
      "Quarantined in queue/corrupt/ (never attempted; `cordon queue delete ID` removes)\n");
  std::printf("%-16s  %-15s  %-8s  %-24s\n", "ID", "REASON", "FROM", "QUARANTINED");
  for (const auto& c : corrupt) {
    std::printf("%-16s  %-15s  %-8s  %-24s\n", c.name.c_str(), reason_of(c).c_str(),
                c.from.empty() ? "?" : c.from.c_str(), q::format_rfc3339(c.time).c_str());
    if (c.envelope) std::printf("    from: <%s>\n", c.envelope->sender.c_str());
    if (!c.detail.empty()) std::printf("    why:  %s\n", c.detail.c_str());
  }
  std::printf("-- %zu quarantined\n", corrupt.size());
}

void print_text(const std::vector<q::QueuedMessage>& messages,
                const std::vector<q::QuarantinedEntry>& corrupt) {
  if (messages.empty() && corrupt.empty()) {
    std::printf("Queue is empty\n");
    return;
  }
  if (messages.empty()) {
    print_corrupt(corrupt);
    return;
  }
  std::printf("%-16s  %-8s  %10s  %-24s  %8s  %-24s\n", "ID", "STATE", "SIZE", "ARRIVAL",
              "ATTEMPTS", "NEXT ATTEMPT");
  for (const auto& m : messages) {
    std::printf("%-16s  %-8s  %10llu  %-24s  %8d  %-24s\n", m.id.c_str(),
                std::string(q::to_string(m.state)).c_str(),
                static_cast<unsigned long long>(m.envelope.content_size),
                q::format_rfc3339(m.envelope.arrival).c_str(), m.envelope.attempts,
                q::format_rfc3339(m.envelope.next_attempt).c_str());
    std::printf("    from: <%s>\n", m.envelope.sender.c_str());
    for (const auto& r : m.envelope.recipients)
      std::printf("    to:   <%s> %s\n", r.address.c_str(),
                  std::string(q::to_string(r.state)).c_str());
    if (!m.envelope.trace.empty()) {
      const auto& last = m.envelope.trace.back();
      std::printf("    last: %s %s%s%s\n", q::format_rfc3339(last.time).c_str(), last.event.c_str(),
                  last.detail.empty() ? "" : ": ", last.detail.c_str());
    }
  }
  std::printf("-- %zu message%s\n", messages.size(), messages.size() == 1 ? "" : "s");
  print_corrupt(corrupt);
}

int report_failure(const q::SpoolFailure& failure) {
  if (failure.code == q::SpoolError::not_found || failure.code == q::SpoolError::invalid_id ||
      failure.code == q::SpoolError::invalid_state)
    return error(failure.detail);
  return error(std::string(q::to_string(failure.code)) + ": " + failure.detail);
}

// Tells a running gateway what was done, for its log (see
// queue/operator_actions.hpp). The action itself has happened: a record
// that cannot be written is a warning, not a failure.
void tell_gateway(const q::Spool& spool, const std::string& action, const std::string& id,
                  std::size_t count, q::TimePoint now) {
  auto recorded = q::record_operator_action(spool.root(), {action, id, count, now});
  if (!recorded)
    std::fprintf(stderr, "cordon queue: warning: the gateway's log will not show this: %s\n",
                 recorded.error().c_str());
}

int run_queue(const std::string& verb, const QueueOptions& opts) {
  auto data_dir = existing_data_dir(opts.config);
  if (!data_dir) return error(data_dir.error());
  bool json = opts.format == "json";
  // A data_dir without a queue is an empty queue (a data_dir that does not
  // exist is an error, above); listing it must not create directories as a
  // side effect.
  std::error_code ec;
  bool exists = std::filesystem::is_directory(std::filesystem::path(*data_dir) / "queue", ec);
  if (!exists) {
    if (verb == "list") {
      std::printf(json ? "[]\n" : "Queue is empty\n");
      return 0;
    }
    if (verb == "flush") {
      std::printf(json ? "{\"flushed\":0}\n" : "flushed 0 messages\n");
      return 0;
    }
    return error("no message " + opts.id + " in the queue (no queue in " + *data_dir + ")");
  }
  auto spool = q::Spool::open({*data_dir, 0});
  if (!spool) return report_failure(spool.error());
  auto now = std::chrono::system_clock::now();

  if (verb == "list") {
    auto messages = spool->list();
    if (!messages) return report_failure(messages.error());
    auto corrupt = spool->list_corrupt();
    if (!corrupt) return report_failure(corrupt.error());
    if (json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& m : *messages) out.push_back(to_json(m));
      for (const auto& c : *corrupt) out.push_back(to_json(c));
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      print_text(*messages, *corrupt);
    }
    return 0;
  }
  if (verb == "flush") {
    auto flushed = spool->flush(now);
    if (!flushed) return report_failure(flushed.error());
    tell_gateway(*spool, "flush", "", *flushed, now);
    if (json)
      std::printf("{\"flushed\":%zu}\n", *flushed);
    else
      std::printf("flushed %zu message%s\n", *flushed, *flushed == 1 ? "" : "s");
    return 0;
  }
  if (verb == "delete") {
    auto removed = spool->remove(opts.id);
    if (!removed) return report_failure(removed.error());
    tell_gateway(*spool, "delete", opts.id, 1, now);
    if (!json) std::printf("%s: deleted\n", opts.id.c_str());
    return 0;
  }
  if (verb == "hold") {
    auto held = spool->hold(opts.id, now);
    if (!held) return report_failure(held.error());
    if (*held != q::QueueState::hold) tell_gateway(*spool, "hold", opts.id, 1, now);
    if (!json)
      std::printf("%s: %s\n", opts.id.c_str(),
                  *held == q::QueueState::hold ? "already on hold" : "placed on hold");
    return 0;
  }
  if (verb == "release") {
    auto released = spool->release(opts.id, now);
    if (!released) return report_failure(released.error());
    tell_gateway(*spool, "release", opts.id, 1, now);
    if (!json) std::printf("%s: released\n", opts.id.c_str());
    return 0;
  }
  return error("unknown queue command " + verb);
}

}  // namespace

void add_queue_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<QueueOptions>();
  auto* cmd =
      app.add_subcommand("queue", "The gateway's queue: list, flush, delete, hold, release");
  cmd->add_option("--config", opts->config, "YAML configuration file");
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->require_subcommand(1);
  std::vector<CLI::App*> verbs;
  verbs.push_back(cmd->add_subcommand("list", "List queued messages"));
  verbs.push_back(cmd->add_subcommand("flush", "Retry every deferred message now"));
  for (const char* verb : {"delete", "hold", "release"}) {
    auto* sub = cmd->add_subcommand(verb, std::string(verb) + " one message by queue id");
    sub->add_option("id", opts->id, "Queue id")->required();
    verbs.push_back(sub);
  }
  // `cordon queue list --format json` as well as `cordon queue --format json list`.
  for (auto* sub : verbs) sub->fallthrough();
  cmd->callback([&exit_code, opts, verbs] {
    for (auto* sub : verbs)
      if (sub->parsed()) exit_code = run_queue(sub->get_name(), *opts);
  });
}

}  // namespace cordon::cli
