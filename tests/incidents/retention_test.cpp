// The retention purge on a SQLite store: it purges at start, then again on
// its period, counts what it deleted and what failed in its metrics, reads
// the retention in force at each run, and keeps everything while the
// retention is zero.
#include "incidents/retention.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>

#include "incidents/sqlite_store.hpp"

namespace cordon::incidents {
namespace {

using namespace std::chrono_literals;

NewIncident incident_seen(std::string hash, Clock::time_point when) {
  NewIncident n;
  n.time = when;
  n.sender = "alice@corp.example";
  n.recipients = {"bob@partner.example"};
  n.subject = "Q3 customer list";
  n.content_hash = std::move(hash);
  n.policies = {{"Codes", Severity::high, {{"keywords", "subject", 1, {"code"}}}}};
  return n;
}

class RetentionPurgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cordon-retention-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = SqliteIncidentStore::open((dir_ / "incidents.db").string());
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs the I/O loop until `done` holds or 5 s have passed.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(10ms);
    }
    return done();
  }

  std::int64_t count() { return store_->count({}).value(); }
  std::uint64_t metric(std::string_view name) { return metrics_.counter(name, "").value(); }

  std::filesystem::path dir_;
  std::shared_ptr<IncidentStore> store_;
  asio::io_context io_;
  asio::thread_pool workers_{1};
  util::Metrics metrics_;
  std::atomic<int> opens_{0};
  RetentionPurger::OpenStore open_store_ =
      [this]() -> Result<std::shared_ptr<IncidentStore>, std::string> {
    ++opens_;
    return store_;
  };
};

TEST_F(RetentionPurgerTest, PurgesAtStartThenOnItsPeriodCountingWhatItDeleted) {
  const auto now = Clock::now();
  ASSERT_TRUE(store_->record(incident_seen("old", now - 40 * 24h)).has_value());
  ASSERT_TRUE(store_->record(incident_seen("older", now - 400 * 24h)).has_value());
  ASSERT_TRUE(store_->record(incident_seen("recent", now - 2 * 24h)).has_value());
  RetentionPurger purger(
      io_, workers_, [] { return std::chrono::milliseconds(30 * 24h); }, open_store_, metrics_,
      200ms);
  purger.start();
  ASSERT_TRUE(run_until([&] { return metric("cordon_incidents_purged_total") == 2; }));
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(opens_.load(), 1);

  // An incident that ages past the retention goes at the next run.
  ASSERT_TRUE(store_->record(incident_seen("late", now - 31 * 24h)).has_value());
  ASSERT_TRUE(run_until([&] { return metric("cordon_incidents_purged_total") == 3; }));
  EXPECT_EQ(count(), 1);
  EXPECT_GE(opens_.load(), 2);
  EXPECT_EQ(metric("cordon_incident_purge_failures_total"), 0u);
  purger.stop();
  workers_.join();
}

TEST_F(RetentionPurgerTest, ReadsTheRetentionInForceAtEachRunAndKeepsAllWhileItIsZero) {
  const auto now = Clock::now();
  ASSERT_TRUE(store_->record(incident_seen("old", now - 40 * 24h)).has_value());
  std::atomic<std::int64_t> days{0};
  std::atomic<int> runs{0};
  RetentionPurger purger(
      io_, workers_,
      [&] {
        ++runs;
        return std::chrono::milliseconds(days.load() * 24h);
      },
      open_store_, metrics_, 50ms);
  purger.start();
  ASSERT_TRUE(run_until([&] { return runs >= 3; }));
  EXPECT_EQ(count(), 1);  // zero: kept forever, and the store is never opened
  EXPECT_EQ(opens_.load(), 0);
  days = 30;  // as a reload would change it
  ASSERT_TRUE(run_until([&] { return metric("cordon_incidents_purged_total") == 1; }));
  EXPECT_EQ(count(), 0);
  purger.stop();
  workers_.join();
}

TEST_F(RetentionPurgerTest, AStoreThatCannotOpenIsCountedAndTriedAgainOnThePeriod) {
  std::atomic<int> attempts{0};
  RetentionPurger purger(
      io_, workers_, [] { return std::chrono::milliseconds(30 * 24h); },
      [&]() -> Result<std::shared_ptr<IncidentStore>, std::string> {
        ++attempts;
        return fail(std::string("the database is unreachable"));
      },
      metrics_, 50ms);
  purger.start();
  ASSERT_TRUE(run_until([&] { return metric("cordon_incident_purge_failures_total") >= 2; }));
  EXPECT_GE(attempts.load(), 2);
  EXPECT_EQ(metric("cordon_incidents_purged_total"), 0u);
  purger.stop();
  workers_.join();
}

TEST_F(RetentionPurgerTest, StoppedItRunsNoMore) {
  std::atomic<int> runs{0};
  RetentionPurger purger(
      io_, workers_,
      [&] {
        ++runs;
        return std::chrono::milliseconds(0);
      },
      open_store_, metrics_, 20ms);
  purger.start();
  ASSERT_TRUE(run_until([&] { return runs >= 1; }));
  purger.stop();
  const int seen = runs;
  io_.restart();
  io_.run_for(200ms);
  EXPECT_EQ(runs.load(), seen);
  workers_.join();
}

}  // namespace
}  // namespace cordon::incidents
