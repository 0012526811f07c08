// The incident outbox (see outbox_store.hpp): durable files for incidents the
// store could not take, replayed into it when it can again.
#include "incidents/outbox_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "incidents/json.hpp"
#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::incidents {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kDamagedSuffix = ".damaged";
constexpr int kFormat = 1;

std::int64_t to_millis(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Entry file names sort by a stamp that grows with every entry written (the
// time in milliseconds, moved on by one when two entries fall in the same
// millisecond), so replay keeps the order in which incidents happened.
std::string entry_name(std::int64_t stamp, std::string_view reference) {
  return fmt::format("{:016d}-{}{}", stamp, reference, kSuffix);
}

std::int64_t stamp_of(const fs::path& entry) {
  const std::string name = entry.filename().string();
  std::int64_t stamp = 0;
  for (char c : name) {
    if (c < '0' || c > '9') break;
    stamp = stamp * 10 + (c - '0');
  }
  return stamp;
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix) &&
        !name.starts_with(util::kTempMarker))
      out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

OutboxMetrics register_outbox_metrics(util::Metrics& registry) {
  constexpr std::string_view kHelp =
      "Incidents the store could not record: kept in the outbox, or lost when the outbox "
      "could not be written either";
  OutboxMetrics m;
  m.write_failures =
      &registry.counter("cordon_incident_write_failures_total", kHelp, "result=\"outbox\"");
  m.lost = &registry.counter("cordon_incident_write_failures_total", kHelp, "result=\"lost\"");
  m.replayed = &registry.counter("cordon_incident_outbox_replayed_total",
                                 "Incidents moved from the outbox into the store");
  m.pending = &registry.gauge("cordon_incident_outbox_pending",
                              "Incidents waiting in the outbox for the store");
  return m;
}

std::string outbox_entry_to_json(const NewIncident& incident, std::string_view reference) {
  nlohmann::json j = {{"format", kFormat},
                      {"reference", reference},
                      {"time_ms", to_millis(incident.time)},
                      {"sender", incident.sender},
                      {"recipients", incident.recipients},
                      {"subject", incident.subject},
                      {"message_id", incident.message_id},
                      {"content_hash", incident.content_hash},
                      {"action", to_string(incident.action)},
                      {"policies", policies_to_json(incident.policies)},
                      {"client_address", incident.client_address},
                      {"client_helo", incident.client_helo}};
  if (!incident.headers.empty()) j["headers"] = incident.headers;
  if (!incident.preview.empty()) j["preview"] = incident.preview;
  // Subjects and addresses may hold invalid UTF-8; never throw on them.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::pair<NewIncident, std::string>, std::string> outbox_entry_from_json(
    std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(std::string("not a JSON object"));
  try {
    if (j.at("format").get<int>() != kFormat) return fail(std::string("unknown format version"));
    NewIncident i;
    i.time = Clock::time_point(std::chrono::milliseconds(j.at("time_ms").get<std::int64_t>()));
    i.sender = j.at("sender").get<std::string>();
    i.recipients = j.at("recipients").get<std::vector<std::string>>();
    i.subject = j.at("subject").get<std::string>();
    i.message_id = j.at("message_id").get<std::string>();
    i.content_hash = j.at("content_hash").get<std::string>();
    // Absent in entries written before the client was recorded.
    i.client_address = j.value("client_address", std::string());
    i.client_helo = j.value("client_helo", std::string());
    i.headers = j.value("headers", std::string());
    i.preview = j.value("preview", std::string());
    auto action = parse_action(j.at("action").get<std::string>());
    if (!action) return fail(std::string("unknown action"));
    i.action = *action;
    auto policies = policies_from_json(j.at("policies"));
    if (!policies) return fail(policies.error());
    i.policies = std::move(policies).value();
    return std::pair{std::move(i), j.at("reference").get<std::string>()};
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("malformed entry: ") + e.what());
  }
}

OutboxIncidentStore::OutboxIncidentStore(std::unique_ptr<IncidentStore> inner, fs::path directory,
                                         OutboxMetrics metrics)
    : inner_(std::move(inner)), directory_(std::move(directory)), metrics_(metrics) {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  if (ec)
    spdlog::error("incidents: cannot create outbox {}: {}", directory_.string(), ec.message());
  replay();
}

void OutboxIncidentStore::set_pending(std::size_t n) {
  pending_ = n;
  if (metrics_.pending) metrics_.pending->set(static_cast<std::int64_t>(n));
}

std::size_t OutboxIncidentStore::replay() {
  std::lock_guard lock(mutex_);
  return replay_locked();
}

std::size_t OutboxIncidentStore::replay_locked() {
  auto waiting = entries(directory_);
  // A burst in the last run may have stamped entries ahead of the clock.
  if (!waiting.empty()) last_stamp_ = std::max(last_stamp_, stamp_of(waiting.back()));
  std::size_t left = waiting.size();
  for (const auto& path : waiting) {
    auto text = util::read_file(path);
    if (!text) {
      // Another process sharing the data directory may have replayed it.
      if (text.error().err == ENOENT) --left;
      continue;
    }
    auto entry = outbox_entry_from_json(*text);
    if (!entry) {
      // Kept for a person to look at, never retried in a loop.
      spdlog::error("incidents: outbox entry {} is damaged ({}); renamed to {}{}", path.string(),
                    entry.error(), path.filename().string(), kDamagedSuffix);
      std::error_code ec;
      fs::rename(path, path.string() + std::string(kDamagedSuffix), ec);
      --left;
      continue;
    }
    auto& [incident, reference] = *entry;
    auto recorded = inner_->record(incident);
    if (!recorded) break;  // still unwritable: keep the rest, in order
    // The sender was given the reference, not the id: keep it with the incident.
    auto current = inner_->get(recorded->id);
    if (current) {
      (void)inner_->update_status(
          recorded->id, current->status,
          "recorded late from the incident outbox; the block reply named " + reference,
          Clock::now());
    }
    std::error_code ec;
    fs::remove(path, ec);
    (void)util::fsync_dir(directory_);
    --left;
    if (metrics_.replayed) metrics_.replayed->inc();
    spdlog::info("incidents: outbox entry {} recorded as incident {}", reference, recorded->id);
  }
  set_pending(left);
  return left;
}

StoreResult<RecordOutcome> OutboxIncidentStore::record(const NewIncident& incident) {
  // Nothing waiting: record without the lock, so a store that takes
  // concurrent writes (PostgreSQL's connections) gets them from every worker.
  std::unique_lock lock(mutex_, std::defer_lock);
  bool try_store = true;
  if (pending_.load() > 0) {
    lock.lock();
    // Older incidents first, so that ids keep the order of events; while the
    // store still refuses them there is no point in trying it for this one.
    try_store = replay_locked() == 0;
  }
  if (try_store) {
    auto recorded = inner_->record(incident);
    if (recorded) return recorded;
    spdlog::error("incidents: store refused an incident ({}); keeping it in the outbox {}",
                  recorded.error().message, directory_.string());
  }
  if (!lock.owns_lock()) lock.lock();
  return keep(incident);
}

StoreResult<RecordOutcome> OutboxIncidentStore::keep(const NewIncident& incident) {
  if (metrics_.write_failures) metrics_.write_failures->inc();
  const std::string reference = "P-" + util::random_hex(8);
  const std::int64_t stamp = std::max(to_millis(Clock::now()), last_stamp_ + 1);
  const auto written = util::atomic_replace(directory_, entry_name(stamp, reference),
                                            outbox_entry_to_json(incident, reference));
  if (!written) {
    if (metrics_.lost) metrics_.lost->inc();
    spdlog::error("incidents: incident {} lost: the outbox cannot be written either: {}", reference,
                  written.error().message);
    return fail(StoreError{StoreErrorCode::io,
                           "incident store and outbox unwritable: " + written.error().message});
  }
  last_stamp_ = stamp;
  set_pending(pending_ + 1);
  RecordOutcome outcome;
  outcome.reference = reference;
  return outcome;
}

}  // namespace cordon::incidents
