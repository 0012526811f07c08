// The PostgreSQL incident store against a real, throwaway PostgreSQL server
// (started once for the suite): the backend contract shared with SQLite,
// then what several nodes sharing one database need: one incident for a
// message two nodes see, no duplicates or losses under concurrent bursts,
// migrations from an empty or old schema that are idempotent and safe when
// nodes start together, and the outbox draining exactly once after the
// database was stopped mid-traffic and started again.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "incidents/open_store.hpp"
#include "incidents/outbox_store.hpp"
#include "incidents/postgres_store.hpp"
#include "incidents/store_contract.hpp"
#include "support/postgres_server.hpp"

using namespace cordon::incidents;
using namespace cordon::incidents::contract;
using cordon::testing::PostgresServer;

namespace {

PostgresServer& server() {
  static PostgresServer instance;
  return instance;
}

std::string fresh_database() {
  static std::atomic<int> next{0};
  if (!server().ok()) return {};
  return server().create_database("cordon_t" + std::to_string(next++));
}

PostgresOptions quick() {
  PostgresOptions o;
  o.connect_timeout = std::chrono::seconds(2);
  o.retry_after = std::chrono::milliseconds(100);
  return o;
}

std::unique_ptr<PostgresIncidentStore> open_pg(const std::string& url,
                                               PostgresOptions options = quick()) {
  auto s = PostgresIncidentStore::open(url, options);
  EXPECT_TRUE(s.has_value()) << (s.has_value() ? "" : s.error().message);
  return s.has_value() ? std::move(s).value() : nullptr;
}

const StoreBackend kPostgres{"postgresql", [](const std::string&) { return fresh_database(); },
                             [](const std::string& url) -> std::unique_ptr<IncidentStore> {
                               auto s = PostgresIncidentStore::open(url, quick());
                               return s.has_value() ? std::move(s).value() : nullptr;
                             }};

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server().ok()) << server().error();
    url_ = fresh_database();
    ASSERT_FALSE(url_.empty());
  }
  std::string db() const { return url_.substr(url_.rfind('/') + 1); }
  std::string url_;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract, ::testing::Values(&kPostgres),
                         [](const auto& info) { return info.param->name; });

TEST_F(PostgresStore, OpenStoreChoosesPostgresqlForAUrlAndChecksIt) {
  auto store = open_store(url_, "/nonexistent");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_TRUE(store.value()->record(card_incident()).has_value());
  EXPECT_FALSE(check_store_spec(url_).has_value());
  EXPECT_FALSE(check_store_spec("postgres://u@h:5432/db?sslmode=verify-full").has_value());
  EXPECT_TRUE(check_store_spec("postgresql://u@h/db?nosuchoption=1").has_value());
  EXPECT_TRUE(check_store_spec("mysql://x").has_value());
}

TEST_F(PostgresStore, MigratesAnEmptyDatabaseOnceAndReopensIdempotently) {
  {
    auto store = open_pg(url_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->record(card_incident("kept")).has_value());
  }
  for (int i = 0; i < 2; ++i) {
    auto again = open_pg(url_);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->count({}).value(), 1);  // nothing recreated, nothing lost
  }
  EXPECT_TRUE(
      server().psql("DO \\$\\$ BEGIN IF (SELECT COUNT(*) FROM schema_version) <> 4 "
                    "THEN RAISE 'not one version row'; END IF; END \\$\\$",
                    db()));
}

TEST_F(PostgresStore, MigratesAVersionZeroSchemaAndRefusesANewerOne) {
  // An old node created the version table but applied nothing (version 0).
  ASSERT_TRUE(server().psql(
      "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL "
      "DEFAULT now())",
      db()));
  auto store = open_pg(url_);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->record(card_incident()).has_value());
  store.reset();
  ASSERT_TRUE(server().psql("INSERT INTO schema_version (version) VALUES (99)", db()));
  auto newer = PostgresIncidentStore::open(url_, quick());
  ASSERT_FALSE(newer.has_value());
  EXPECT_EQ(newer.error().code, StoreErrorCode::schema);
}

TEST_F(PostgresStore, NodesStartingTogetherMigrateOnce) {
  constexpr int kNodes = 6;
  std::atomic<int> opened{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i)
    nodes.emplace_back([&] {
      auto s = PostgresIncidentStore::open(url_, quick());
      if (s.has_value() && s.value()->count({}).has_value()) ++opened;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(opened.load(), kNodes);
  EXPECT_TRUE(
      server().psql("DO \\$\\$ BEGIN IF (SELECT COUNT(*) FROM schema_version) <> 4 "
                    "THEN RAISE 'migrated more than once'; END IF; END \\$\\$",
                    db()));
}

TEST_F(PostgresStore, TheSameMessageThroughTwoNodesIsOneIncident) {
  auto node1 = open_pg(url_);
  auto node2 = open_pg(url_);
  ASSERT_TRUE(node1 && node2);
  auto a = node1->record(card_incident("one-message"));
  auto b = node2->record(card_incident("one-message", kDay1 + 5min));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->id, b->id);
  EXPECT_FALSE(a->repeated);
  EXPECT_TRUE(b->repeated);
  auto got = node1->get(a->id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->repeat_count, 1);  // seen twice: once, then once again
  EXPECT_EQ(got->last_seen, kDay1 + 5min);
  EXPECT_EQ(node2->count({}).value(), 1);
}

TEST_F(PostgresStore, ConcurrentBurstsFromTwoNodesLoseAndDoubleNothing) {
  auto node1 = open_pg(url_);
  auto node2 = open_pg(url_);
  ASSERT_TRUE(node1 && node2);
  constexpr int kThreads = 4, kPerThread = 60;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, n, t] {
        IncidentStore& node = n == 0 ? *node1 : *node2;
        for (int i = 0; i < kPerThread; ++i) {
          // Every message is seen by both nodes (the shared ones) or by
          // this thread alone.
          const std::string hash = i % 2 ? "shared-" + std::to_string(t) + "-" + std::to_string(i)
                                         : "own-" + std::to_string(n) + "-" + std::to_string(t) +
                                               "-" + std::to_string(i);
          if (!node.record(card_incident(hash)).has_value()) ++failures;
        }
      });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  IncidentQuery all;
  all.limit = 0;
  auto listed = node1->list(all);
  ASSERT_TRUE(listed.has_value());
  const int shared = kThreads * kPerThread / 2, own = 2 * kThreads * kPerThread / 2;
  ASSERT_EQ(static_cast<int>(listed->size()), shared + own);
  std::set<std::string> hashes;
  for (const auto& i : *listed) {
    hashes.insert(i.content_hash);
    EXPECT_EQ(i.repeat_count, i.content_hash.starts_with("shared-") ? 1 : 0) << i.content_hash;
  }
  EXPECT_EQ(static_cast<int>(hashes.size()), shared + own);
}

TEST_F(PostgresStore, DatabaseStoppedMidTrafficThenOutboxDrainsExactlyOnce) {
  TempDir dir1, dir2;
  auto options = quick();
  options.require_connection = false;
  options.statement_timeout = std::chrono::milliseconds(2000);
  auto node1 =
      std::make_unique<OutboxIncidentStore>(open_pg(url_, options), dir1.file("incident-outbox"));
  auto node2 =
      std::make_unique<OutboxIncidentStore>(open_pg(url_, options), dir2.file("incident-outbox"));
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, kept{0}, errors{0};
  std::mutex refs_mutex;
  std::set<std::string> references;
  auto traffic = [&](OutboxIncidentStore& node, int n) {
    for (int i = 0; !stop.load(); ++i) {
      auto r = node.record(card_incident("n" + std::to_string(n) + "-" + std::to_string(i)));
      ++sent;
      if (!r.has_value()) {
        ++errors;
      } else if (!r->reference.empty()) {
        EXPECT_TRUE(r->reference.starts_with("P-")) << r->reference;
        EXPECT_EQ(r->id, 0);
        ++kept;
        std::lock_guard lock(refs_mutex);
        references.insert(r->reference);
      }
      std::this_thread::sleep_for(2ms);
    }
  };
  std::thread t1(traffic, std::ref(*node1), 1), t2(traffic, std::ref(*node2), 2);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(server().stop());
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(server().start());
  std::this_thread::sleep_for(300ms);
  stop = true;
  t1.join();
  t2.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(kept.load(), 0) << "the stop did not reach the outbox";
  EXPECT_EQ(static_cast<int>(references.size()), kept.load());
  // Whatever traffic still waits is written now.
  EXPECT_EQ(node1->replay(), 0u);
  EXPECT_EQ(node2->replay(), 0u);

  IncidentQuery all;
  all.limit = 0;
  all.descending = false;
  auto listed = node1->list(all);
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  // One row per message: none lost, none doubled.
  EXPECT_EQ(static_cast<int>(listed->size()), sent.load());
  std::set<std::string> hashes;
  std::int64_t bumps = 0;
  std::map<std::string, int> last_index;  // per node: ids keep the order of events
  for (const auto& i : *listed) {
    hashes.insert(i.content_hash);
    bumps += i.repeat_count;
    const std::string node = i.content_hash.substr(0, i.content_hash.find('-'));
    const int index = std::stoi(i.content_hash.substr(i.content_hash.find('-') + 1));
    if (last_index.count(node)) {
      EXPECT_GT(index, last_index[node]) << i.content_hash;
    }
    last_index[node] = index;
  }
  EXPECT_EQ(static_cast<int>(hashes.size()), sent.load());
  // A statement in flight when the server died may have committed without
  // the node hearing so; its replay then counts as a repeat of itself. At
  // most one such statement per node.
  EXPECT_LE(bumps, 2);
  // The reference each sender was given is in its incident's history.
  int found = 0;
  for (const auto& i : *listed) {
    auto full = node1->get(i.id);
    ASSERT_TRUE(full.has_value());
    for (const auto& h : full->history)
      for (const auto& ref : references)
        if (h.comment.find(ref) != std::string::npos) ++found;
  }
  EXPECT_EQ(found, kept.load());
}

TEST_F(PostgresStore, CordonIncidentsReadsTheUrlOfTheConfiguration) {
  auto store = open_pg(url_);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->record(card_incident("listed-by-the-cli")).has_value());
  TempDir dir;
  const std::string config = dir.file("cordon.yaml");
  std::ofstream(config) << "data_dir: " << dir.file("data") << "\nincidents: " << url_ << "\n";
  auto out = cordon::testing::run_command(cordon::testing::cordon_bin() + " incidents --config '" +
                                          config + "' --format json");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("\"content_hash\": \"listed-by-the-cli\""), std::string::npos)
      << out.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("data/incidents.db")));
}

TEST_F(PostgresStore, AUserWithoutCreateOpensADatabaseAnotherNodeMigrated) {
  ASSERT_TRUE(open_pg(url_));  // the prevent node's user creates the tables
  const std::string role = "reader_" + db();
  ASSERT_TRUE(server().psql("CREATE ROLE " + role + " LOGIN", db()));
  ASSERT_TRUE(
      server().psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA "
                    "public TO " +
                        role +
                        "; GRANT SELECT, INSERT, UPDATE ON ALL TABLES "
                        "IN SCHEMA public TO " +
                        role +
                        "; GRANT USAGE ON ALL SEQUENCES IN "
                        "SCHEMA public TO " +
                        role,
                    db()));
  std::string url = url_;
  url.replace(url.find("cordon@"), 6, role);
  auto console = open_pg(url);
  ASSERT_TRUE(console);
  auto id = console->record(card_incident("from-the-console-user"));
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_TRUE(console->update_status(id->id, IncidentStatus::resolved, "ok", kDay1).has_value());
}

TEST_F(PostgresStore, ASlowDatabaseFailsTheCallWithinTheTimeoutAndTheOutboxKeepsIt) {
  auto options = quick();
  options.statement_timeout = std::chrono::milliseconds(300);
  auto pg = open_pg(url_, options);
  ASSERT_TRUE(pg);
  TempDir dir;
  OutboxIncidentStore node(std::move(pg), dir.file("incident-outbox"));
  // Another session holds the table for 3 s, as a long migration or a
  // stuck transaction would.
  std::thread holder([&] {
    server().psql(
        "BEGIN; LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); "
        "COMMIT",
        db());
  });
  std::this_thread::sleep_for(500ms);
  const auto start = std::chrono::steady_clock::now();
  auto r = node.record(card_incident("while-slow"));
  const auto took = std::chrono::steady_clock::now() - start;
  holder.join();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->reference.starts_with("P-")) << "recorded with id " << r->id;
  EXPECT_LT(took, 2s);
  EXPECT_EQ(node.replay(), 0u);
  IncidentQuery q;
  q.text = "customer";
  EXPECT_EQ(node.count(q).value(), 1);
}

// Writes arriving together are committed together: the same few messages
// recorded by many threads of two nodes at once are counted exactly, and
// each write of a message gets its own repeat count (0 for the first, then
// 1, 2, ...), however the writes were batched.
TEST_F(PostgresStore, ConcurrentWritesOfTheSameMessagesAreCountedExactlyOnceEach) {
  auto node1 = open_pg(url_);
  auto node2 = open_pg(url_);
  ASSERT_TRUE(node1 && node2);
  constexpr int kThreads = 12, kPerThread = 25, kMessages = 3;
  std::mutex mutex;
  std::map<std::string, std::vector<std::int64_t>> repeats;
  std::map<std::string, std::set<IncidentId>> ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreads; ++t)
    threads.emplace_back([&, t] {
      IncidentStore& node = t % 2 ? *node1 : *node2;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string hash = "hot-" + std::to_string((t + i) % kMessages);
        auto r = node.record(card_incident(hash));
        if (!r.has_value()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        repeats[hash].push_back(r->repeat_count);
        ids[hash].insert(r->id);
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(repeats.size(), static_cast<std::size_t>(kMessages));
  std::size_t writes = 0;
  for (auto& [hash, counts] : repeats) {
    EXPECT_EQ(ids[hash].size(), 1u) << hash;
    std::sort(counts.begin(), counts.end());
    for (std::size_t i = 0; i < counts.size(); ++i) ASSERT_EQ(counts[i], std::int64_t(i)) << hash;
    writes += counts.size();
  }
  EXPECT_EQ(writes, std::size_t(2 * kThreads * kPerThread));
  IncidentQuery all;
  all.limit = 0;
  auto listed = node1->list(all);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), static_cast<std::size_t>(kMessages));
  for (const auto& i : *listed)
    EXPECT_EQ(i.repeat_count + 1, std::int64_t(repeats[i.content_hash].size()));
}

// A write that fails (here: its row is locked past the statement timeout)
// fails alone: the writes batched with it are written.
TEST_F(PostgresStore, AWriteThatFailsDoesNotFailTheWritesBatchedWithIt) {
  auto options = quick();
  options.statement_timeout = std::chrono::milliseconds(400);
  auto pg = open_pg(url_, options);
  ASSERT_TRUE(pg);
  ASSERT_TRUE(pg->record(card_incident("locked")).has_value());
  std::thread holder([&] {
    server().psql(
        "BEGIN; SELECT id FROM incidents WHERE content_hash = 'locked' FOR UPDATE; "
        "SELECT pg_sleep(2); COMMIT",
        db());
  });
  std::this_thread::sleep_for(300ms);
  std::atomic<int> good_failed{0};
  std::optional<bool> locked_ok;
  std::vector<std::thread> writers;
  constexpr int kWriters = 6, kEach = 20;
  // Writers keep a batch in flight, so the locked write joins a batch of others.
  for (int t = 0; t < kWriters; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        if (!pg->record(card_incident("free-" + std::to_string(t) + "-" + std::to_string(i))))
          ++good_failed;
    });
  std::this_thread::sleep_for(20ms);
  writers.emplace_back([&] { locked_ok = pg->record(card_incident("locked")).has_value(); });
  for (auto& w : writers) w.join();
  holder.join();
  EXPECT_EQ(good_failed.load(), 0);
  ASSERT_TRUE(locked_ok.has_value());
  EXPECT_FALSE(*locked_ok);
  IncidentQuery all;
  all.limit = 0;
  EXPECT_EQ(pg->count(all).value(), 1 + kWriters * kEach);
}

// A console waiting on LISTEN wakes when another node changes an incident,
// well before its timeout; after (re)connecting it returns at once so the
// caller catches up with a query.
TEST_F(PostgresStore, AChangeOnOneNodeWakesTheListenerOfAnother) {
  auto a = open_pg(url_);
  auto b = open_pg(url_);
  ASSERT_TRUE(a && b);
  auto id = a->record(card_incident())->id;
  auto started = std::chrono::steady_clock::now();
  b->wait_for_change(std::chrono::seconds(5));  // connects and LISTENs: returns at once
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  std::thread changer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(
        a->change(id, {IncidentStatus::in_progress, std::nullopt, "", "carol", kDay1}).has_value());
  });
  started = std::chrono::steady_clock::now();
  b->wait_for_change(std::chrono::seconds(20));
  const auto waited = std::chrono::steady_clock::now() - started;
  changer.join();
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(5));
  // Nothing pending: a further wait runs into its timeout.
  started = std::chrono::steady_clock::now();
  b->wait_for_change(std::chrono::milliseconds(400));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(350));
}
