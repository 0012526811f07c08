// OutboxIncidentStore: an IncidentStore in front of another one (SQLite)
// that never loses an incident because the database cannot be written. When
// the inner store refuses record(), the incident is written durably as one
// JSON file under <data_dir>/incident-outbox/ and a reference is minted for
// the block reply ("P-" and 16 hex digits, unique). The outbox is replayed
// into the inner store, oldest first, when the store is opened and before
// every later record(); a replayed incident keeps its reference in its
// status history, so the number the sender was given can be found in the
// console. File format: docs/formats.md, "Incident outbox".
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include "incidents/store.hpp"
#include "util/metrics.hpp"

namespace cordon::incidents {

// Where the metrics of the outbox go; each may be null.
struct OutboxMetrics {
  util::Counter* write_failures = nullptr;  // inner record() failed (incident kept in the outbox)
  util::Counter* lost = nullptr;            // the outbox could not be written either
  util::Counter* replayed = nullptr;        // incidents moved from the outbox into the store
  util::Gauge* pending = nullptr;           // incidents waiting in the outbox
};

OutboxMetrics register_outbox_metrics(util::Metrics& registry);

class OutboxIncidentStore final : public IncidentStore {
 public:
  // `directory` is created if missing; anything already in it is replayed.
  OutboxIncidentStore(std::unique_ptr<IncidentStore> inner, std::filesystem::path directory,
                      OutboxMetrics metrics = {});

  // On an inner failure the incident goes to the outbox and the outcome has
  // id 0 and `reference` set; an error only when the outbox failed as well.
  StoreResult<RecordOutcome> record(const NewIncident& incident) override;
  StoreResult<Incident> get(IncidentId id) override { return inner_->get(id); }
  StoreResult<std::vector<Incident>> list(const IncidentQuery& query) override {
    return inner_->list(query);
  }
  StoreResult<std::int64_t> count(const IncidentQuery& query) override {
    return inner_->count(query);
  }
  Status<StoreError> update_status(IncidentId id, IncidentStatus status, const std::string& comment,
                                   Clock::time_point time) override {
    return inner_->update_status(id, status, comment, time);
  }
  StoreResult<IncidentStats> stats(std::optional<Clock::time_point> from,
                                   std::optional<Clock::time_point> until,
                                   std::size_t top) override {
    return inner_->stats(from, until, top);
  }
  // Incidents still in the outbox are written first and purged on a later day.
  StoreResult<std::int64_t> purge(Clock::time_point cutoff) override {
    return inner_->purge(cutoff);
  }

  Status<StoreError> change(IncidentId id, const IncidentChange& change) override {
    return inner_->change(id, change);
  }
  StoreResult<std::vector<ConsoleUser>> users() override { return inner_->users(); }
  StoreResult<bool> put_user(const ConsoleUser& user, bool replace) override {
    return inner_->put_user(user, replace);
  }
  Status<StoreError> delete_user(const std::string& name) override {
    return inner_->delete_user(name);
  }
  Status<StoreError> put_session(const ConsoleSession& session) override {
    return inner_->put_session(session);
  }
  StoreResult<std::optional<ConsoleSession>> find_session(const std::string& token_hash,
                                                          Clock::time_point now) override {
    return inner_->find_session(token_hash, now);
  }
  Status<StoreError> delete_session(const std::string& token_hash) override {
    return inner_->delete_session(token_hash);
  }
  StoreResult<std::vector<SavedFilter>> saved_filters(const std::string& user) override {
    return inner_->saved_filters(user);
  }
  Status<StoreError> put_saved_filter(const std::string& user, const SavedFilter& filter) override {
    return inner_->put_saved_filter(user, filter);
  }
  Status<StoreError> delete_saved_filter(const std::string& user,
                                         const std::string& name) override {
    return inner_->delete_saved_filter(user, name);
  }
  StoreResult<std::string> change_token() override { return inner_->change_token(); }
  void wait_for_change(std::chrono::milliseconds timeout) override {
    inner_->wait_for_change(timeout);
  }

  // Moves what the outbox holds into the inner store, stopping at the first
  // failure of the store. Returns how many incidents are still waiting.
  std::size_t replay();

 private:
  std::size_t replay_locked();
  // Writes the incident into the outbox; the caller holds mutex_.
  StoreResult<RecordOutcome> keep(const NewIncident& incident);
  void set_pending(std::size_t n);

  std::unique_ptr<IncidentStore> inner_;
  std::filesystem::path directory_;
  OutboxMetrics metrics_;
  std::mutex mutex_;
  std::int64_t last_stamp_ = 0;          // of the newest entry written; under mutex_
  std::atomic<std::size_t> pending_{0};  // written under mutex_, read without it
};

// The JSON form of an outbox entry, exposed for tests.
std::string outbox_entry_to_json(const NewIncident& incident, std::string_view reference);
Result<std::pair<NewIncident, std::string>, std::string> outbox_entry_from_json(
    std::string_view text);

}  // namespace cordon::incidents
