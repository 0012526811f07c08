// The incident outbox: an incident the store refuses is kept durably with a
// unique reference, replayed in order when the store works again (also after
// a restart), keeps its reference in the status history, and a damaged entry
// is set aside once instead of blocking the rest.
#include "incidents/outbox_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "incidents/sqlite_store.hpp"

using namespace cordon::incidents;
using cordon::fail;
using cordon::Status;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cordon-outbox-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path path() const { return path_; }

 private:
  std::string path_;
};

// A real SQLite store whose writes can be made to fail, as a full or
// read-only disk would (the tests run as root, for whom chmod is no barrier).
class Switchable : public IncidentStore {
 public:
  Switchable(std::unique_ptr<SqliteIncidentStore> inner, bool* broken)
      : inner_(std::move(inner)), broken_(broken) {}
  StoreResult<RecordOutcome> record(const NewIncident& i) override {
    if (*broken_)
      return fail(StoreError{StoreErrorCode::io, "attempt to write a readonly database"});
    return inner_->record(i);
  }
  StoreResult<Incident> get(IncidentId id) override { return inner_->get(id); }
  StoreResult<std::vector<Incident>> list(const IncidentQuery& q) override {
    return inner_->list(q);
  }
  StoreResult<std::int64_t> count(const IncidentQuery& q) override { return inner_->count(q); }
  Status<StoreError> update_status(IncidentId id, IncidentStatus s, const std::string& c,
                                   Clock::time_point t) override {
    return inner_->update_status(id, s, c, t);
  }
  StoreResult<IncidentStats> stats(std::optional<Clock::time_point> f,
                                   std::optional<Clock::time_point> u, std::size_t top) override {
    return inner_->stats(f, u, top);
  }

 private:
  std::unique_ptr<SqliteIncidentStore> inner_;
  bool* broken_;
};

// Counts how many record() calls are inside it at once: each waits (up to
// a bound) for a second one to arrive.
class Rendezvous final : public Switchable {
 public:
  using Switchable::Switchable;
  StoreResult<RecordOutcome> record(const NewIncident& i) override {
    const int now = ++inside_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
    for (int k = 0; k < 200 && inside_.load() < 2; ++k)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto r = Switchable::record(i);
    --inside_;
    return r;
  }
  int most() const { return most_.load(); }

 private:
  std::atomic<int> inside_{0}, most_{0};
};

NewIncident incident(std::string hash, std::string subject = "Q3 customer list") {
  NewIncident n;
  n.time = Clock::time_point(std::chrono::seconds(1780000000));
  n.sender = "alice@corp.example";
  n.recipients = {"bob@partner.example"};
  n.subject = std::move(subject);
  n.message_id = "<m1@corp.example>";
  n.content_hash = std::move(hash);
  n.policies = {{"PCI", Severity::high, {{"credit_card", "body", 1, {"4111********1111"}}}}};
  return n;
}

std::size_t files_in(const fs::path& dir, std::string_view suffix) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().string().ends_with(suffix)) ++n;
  return n;
}

class Outbox : public ::testing::Test {
 protected:
  std::unique_ptr<OutboxIncidentStore> open() {
    auto sqlite = SqliteIncidentStore::open((dir_.path() / "incidents.db").string());
    EXPECT_TRUE(sqlite);
    return std::make_unique<OutboxIncidentStore>(
        std::make_unique<Switchable>(std::move(sqlite).value(), &broken_), outbox(),
        register_outbox_metrics(metrics_));
  }
  fs::path outbox() const { return dir_.path() / "incident-outbox"; }
  std::uint64_t counter(std::string_view labels) {
    return metrics_.counter("cordon_incident_write_failures_total", "", labels).value();
  }

  TempDir dir_;
  bool broken_ = false;
  cordon::util::Metrics metrics_;
};

}  // namespace

TEST_F(Outbox, AWorkingStoreGivesTheIdAndLeavesNothingInTheOutbox) {
  auto store = open();
  auto r = store->record(incident("h1"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(r->id, 0);
  EXPECT_TRUE(r->reference.empty());
  EXPECT_EQ(files_in(outbox(), ".json"), 0u);
  EXPECT_EQ(counter("result=\"outbox\""), 0u);
}

TEST_F(Outbox, ARefusedIncidentIsKeptWithAUniqueReferenceAndCounted) {
  auto store = open();
  broken_ = true;
  std::set<std::string> references;
  for (int i = 0; i < 3; ++i) {
    auto r = store->record(incident("h" + std::to_string(i)));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->id, 0);
    ASSERT_EQ(r->reference.size(), 18u) << r->reference;
    EXPECT_EQ(r->reference.rfind("P-", 0), 0u);
    references.insert(r->reference);
  }
  EXPECT_EQ(references.size(), 3u);
  EXPECT_EQ(files_in(outbox(), ".json"), 3u);
  EXPECT_EQ(counter("result=\"outbox\""), 3u);
  EXPECT_EQ(metrics_.gauge("cordon_incident_outbox_pending", "").value(), 3);
}

TEST_F(Outbox, TheOutboxIsReplayedInOrderBeforeTheNextIncidentAndKeepsTheReference) {
  auto store = open();
  broken_ = true;
  auto first = store->record(incident("h1", "first"));
  auto second = store->record(incident("h2", "second"));
  ASSERT_TRUE(first && second);
  broken_ = false;
  auto third = store->record(incident("h3", "third"));
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->reference.empty());
  EXPECT_EQ(files_in(outbox(), ".json"), 0u);
  EXPECT_EQ(metrics_.gauge("cordon_incident_outbox_pending", "").value(), 0);

  IncidentQuery q;
  q.descending = false;
  auto all = store->list(q);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].subject, "first");
  EXPECT_EQ((*all)[1].subject, "second");
  EXPECT_EQ((*all)[2].id, third->id);
  auto replayed = store->get((*all)[0].id);
  ASSERT_TRUE(replayed);
  ASSERT_EQ(replayed->history.size(), 1u);
  EXPECT_NE(replayed->history[0].comment.find(first->reference), std::string::npos);
  EXPECT_EQ(replayed->status, IncidentStatus::new_);
}

TEST_F(Outbox, ARestartReplaysWhatTheLastRunKept) {
  {
    auto store = open();
    broken_ = true;
    ASSERT_TRUE(store->record(incident("h1")));
  }
  broken_ = false;
  auto store = open();
  EXPECT_EQ(files_in(outbox(), ".json"), 0u);
  EXPECT_EQ(*store->count({}), 1);
}

TEST_F(Outbox, AnUnwritableOutboxIsAnErrorAndCountedAsLost) {
  auto store = open();
  broken_ = true;
  fs::remove_all(outbox());
  std::ofstream(outbox()) << "a file where the directory should be";
  auto r = store->record(incident("h1"));
  EXPECT_FALSE(r);
  EXPECT_EQ(counter("result=\"lost\""), 1u);
}

TEST_F(Outbox, ADamagedEntryIsSetAsideOnceAndDoesNotBlockTheOthers) {
  {
    auto store = open();
    broken_ = true;
    ASSERT_TRUE(store->record(incident("h2")));
  }
  std::ofstream(outbox() / "0000000000000000-P-damaged.json") << "{not json";
  broken_ = false;
  auto store = open();
  EXPECT_EQ(files_in(outbox(), ".json"), 0u);
  EXPECT_EQ(files_in(outbox(), ".json.damaged"), 1u);
  EXPECT_EQ(*store->count({}), 1);
  EXPECT_EQ(store->replay(), 0u);
}

TEST(OutboxEntry, RoundTripsEveryField) {
  auto text = outbox_entry_to_json(incident("h9"), "P-0123456789abcdef");
  auto back = outbox_entry_from_json(text);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->second, "P-0123456789abcdef");
  EXPECT_EQ(back->first.subject, "Q3 customer list");
  EXPECT_EQ(back->first.content_hash, "h9");
  EXPECT_EQ(back->first.time, incident("h9").time);
  ASSERT_EQ(back->first.policies.size(), 1u);
  EXPECT_EQ(back->first.policies[0].matches[0].samples[0], "4111********1111");
}

TEST_F(Outbox, WithNothingWaitingRecordsReachTheStoreConcurrently) {
  auto sqlite = SqliteIncidentStore::open((dir_.path() / "incidents.db").string());
  ASSERT_TRUE(sqlite);
  auto inner = std::make_unique<Rendezvous>(std::move(sqlite).value(), &broken_);
  Rendezvous* gate = inner.get();
  OutboxIncidentStore store(std::move(inner), outbox());
  std::thread a([&] { EXPECT_TRUE(store.record(incident("a")).has_value()); });
  std::thread b([&] { EXPECT_TRUE(store.record(incident("b")).has_value()); });
  a.join();
  b.join();
  // Serialised by the outbox, no call would ever see another one inside.
  EXPECT_EQ(gate->most(), 2);
}
