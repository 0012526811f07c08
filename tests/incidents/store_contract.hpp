// The contract every IncidentStore backend keeps (store.hpp), as one
// value-parametrised GoogleTest suite: record/get, repeat counting, two
// connections and two processes sharing one store, filters, paging, status
// history, statistics and JSON rendering. Each backend's test file defines a
// StoreBackend and instantiates the suite with it (SQLite in
// sqlite_store_test.cpp, PostgreSQL in postgres_store_peer_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "incidents/json.hpp"
#include "incidents/store.hpp"

namespace cordon::incidents::contract {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cordon-incidents-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

const Clock::time_point kDay1 = Clock::time_point(std::chrono::seconds(1780000000));  // 2026-05-28

inline NewIncident card_incident(std::string hash = "hash-1", Clock::time_point t = kDay1) {
  NewIncident n;
  n.time = t;
  n.sender = "alice@corp.example";
  n.recipients = {"bob@partner.example", "carol@gmail.example"};
  n.subject = "Q3 customer list";
  n.message_id = "<m1@corp.example>";
  n.content_hash = std::move(hash);
  n.policies = {{"PCI card numbers",
                 Severity::high,
                 {{"credit_card", "body", 3, {"4111********1111", "5500********0004"}}}},
                {"Confidential", Severity::medium, {{"keywords", "subject", 1, {"confidential"}}}}};
  n.action = Action::block;
  return n;
}

// How the suite reaches one backend.
struct StoreBackend {
  std::string name;
  // The location (file path, URL) of a new, empty store; `scratch` is a
  // temporary directory the test owns.
  std::function<std::string(const std::string& scratch)> fresh;
  // Opens (and migrates) the store at a location; null on failure.
  std::function<std::unique_ptr<IncidentStore>(const std::string& location)> open;
};

class StoreContract : public ::testing::TestWithParam<const StoreBackend*> {
 protected:
  void SetUp() override {
    location_ = GetParam()->fresh(dir_.file(""));
    ASSERT_FALSE(location_.empty()) << "cannot create a store for " << GetParam()->name;
  }
  std::unique_ptr<IncidentStore> open_store(const std::string& location) {
    auto store = GetParam()->open(location);
    EXPECT_TRUE(store) << "cannot open " << location;
    return store;
  }

  TempDir dir_;
  std::string location_;
};

TEST_P(StoreContract, RecordThenGetRoundTrips) {
  auto store = open_store(location_);
  ASSERT_TRUE(store);
  auto outcome = store->record(card_incident());
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->repeated);
  auto got = store->get(outcome->id);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->sender, "alice@corp.example");
  EXPECT_EQ(got->recipients,
            (std::vector<std::string>{"bob@partner.example", "carol@gmail.example"}));
  EXPECT_EQ(got->subject, "Q3 customer list");
  EXPECT_EQ(got->message_id, "<m1@corp.example>");
  EXPECT_EQ(got->time, kDay1);
  EXPECT_EQ(got->action, Action::block);
  EXPECT_EQ(got->status, IncidentStatus::new_);
  EXPECT_EQ(got->repeat_count, 0);
  ASSERT_EQ(got->policies.size(), 2u);
  EXPECT_EQ(got->policies[0].name, "PCI card numbers");
  EXPECT_EQ(got->policies[0].severity, Severity::high);
  ASSERT_EQ(got->policies[0].matches.size(), 1u);
  EXPECT_EQ(got->policies[0].matches[0].count, 3u);
  EXPECT_EQ(got->policies[0].matches[0].samples[1], "5500********0004");
  EXPECT_EQ(got->max_severity(), Severity::high);
  EXPECT_EQ(store->get(outcome->id + 100).error().code, StoreErrorCode::not_found);
}

TEST_P(StoreContract, RecordsTheSmtpClientWhenKnown) {
  auto store = open_store(location_);
  ASSERT_TRUE(store);
  auto n = card_incident("client-hash");
  n.client_address = "192.0.2.7";
  n.client_helo = "laptop.corp.example";
  auto id = store->record(n)->id;
  auto got = store->get(id);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->client_address, "192.0.2.7");
  EXPECT_EQ(got->client_helo, "laptop.corp.example");
  auto j = to_json(std::vector<Incident>{*got});
  EXPECT_EQ(j[0]["client_address"], "192.0.2.7");
  EXPECT_EQ(j[0]["client_helo"], "laptop.corp.example");
  // Unknown (an offline scan): empty, not missing.
  auto plain = store->get(store->record(card_incident("no-client"))->id);
  EXPECT_EQ(plain->client_address, "");
}

TEST_P(StoreContract, IdsIncreaseMonotonically) {
  auto store = open_store(location_);
  IncidentId last = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = store->record(card_incident("h" + std::to_string(i)));
    ASSERT_TRUE(r.has_value());
    EXPECT_GT(r->id, last);
    last = r->id;
  }
}

TEST_P(StoreContract, SameHashAndPolicySetIsARepeat) {
  auto store = open_store(location_);
  auto first = store->record(card_incident("same"));
  auto later = card_incident("same", kDay1 + 15min);
  std::reverse(later.policies.begin(), later.policies.end());  // a set: order does not matter
  auto second = store->record(later);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(second->id, first->id);
  EXPECT_TRUE(second->repeated);
  EXPECT_EQ(second->repeat_count, 1);
  auto third = store->record(card_incident("same", kDay1 + 30min));
  EXPECT_EQ(third->repeat_count, 2);
  auto got = store->get(first->id);
  EXPECT_EQ(got->repeat_count, 2);
  EXPECT_EQ(got->time, kDay1);
  EXPECT_EQ(got->last_seen, kDay1 + 30min);
  EXPECT_EQ(store->count({}).value(), 1);

  // A different policy set or a different hash is a new incident.
  auto fewer = card_incident("same");
  fewer.policies.pop_back();
  EXPECT_NE(store->record(fewer)->id, first->id);
  EXPECT_NE(store->record(card_incident("other"))->id, first->id);
  // No hash: never de-duplicated.
  auto a = store->record(card_incident(""));
  auto b = store->record(card_incident(""));
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(store->count({}).value(), 5);
}

TEST_P(StoreContract, TwoConnectionsShareOneStoreAndCountRepeatsAtomically) {
  const std::string& path = location_;
  auto one = open_store(path);
  auto two = open_store(path);
  ASSERT_TRUE(one && two);
  auto a = one->record(card_incident("shared"));
  auto b = two->record(card_incident("shared"));
  EXPECT_EQ(a->id, b->id);
  EXPECT_TRUE(b->repeated);

  // Concurrent writers through separate connections, as two processes would.
  constexpr int kPerWriter = 40;
  auto writer = [&](const std::string& hash) {
    auto store = open_store(path);
    for (int i = 0; i < kPerWriter; ++i)
      ASSERT_TRUE(store->record(card_incident(hash)).has_value());
  };
  std::thread t1(writer, "race"), t2(writer, "race");
  t1.join();
  t2.join();
  IncidentQuery q;
  q.text = "customer";
  EXPECT_EQ(one->count(q).value(), 2);  // "shared" and "race"
  auto race = one->list(q);
  ASSERT_TRUE(race.has_value());
  const auto& newest = race->front();
  EXPECT_EQ(newest.content_hash, "race");
  EXPECT_EQ(newest.repeat_count, 2 * kPerWriter - 1);
}

TEST_P(StoreContract, TwoProcessesRecordingTheSameMessageGetOneIncident) {
  const std::string& path = location_;
  ASSERT_TRUE(open_store(path));  // create the schema first
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = GetParam()->open(path);
    int ok = 0;
    for (int i = 0; store && i < 30; ++i)
      ok += store->record(card_incident("forked")).has_value() ? 1 : 0;
    std::_Exit(ok == 30 ? 0 : 1);
  }
  auto store = open_store(path);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(store->record(card_incident("forked")).has_value());
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto all = store->list({});
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().repeat_count, 59);
}

TEST_P(StoreContract, ListFiltersPagingAndSorting) {
  auto store = open_store(location_);
  for (int i = 0; i < 10; ++i) {
    auto n = card_incident("h" + std::to_string(i), kDay1 + std::chrono::hours(i * 12));
    if (i % 2) {
      n.policies = {{"Source code", Severity::low, {}}};
      n.action = Action::monitor;
      n.sender = "Dave@Corp.Example";
      n.subject = "build scripts";
      n.recipients = {"ext_user@github.example"};
    }
    ASSERT_TRUE(store->record(n).has_value());
  }
  auto ids = [&](IncidentQuery q) {
    std::vector<IncidentId> out;
    auto listed = store->list(q);
    EXPECT_TRUE(listed.has_value());
    if (listed.has_value())
      for (const auto& i : listed.value()) out.push_back(i.id);
    return out;
  };
  IncidentQuery q;
  EXPECT_EQ(ids(q), (std::vector<IncidentId>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  q.descending = false;
  q.limit = 3;
  q.offset = 2;
  EXPECT_EQ(ids(q), (std::vector<IncidentId>{3, 4, 5}));

  q = {};
  q.policy = "Source code";
  EXPECT_EQ(ids(q), (std::vector<IncidentId>{10, 8, 6, 4, 2}));
  q = {};
  q.severity = Severity::high;
  EXPECT_EQ(ids(q).size(), 5u);
  q = {};
  q.action = Action::monitor;
  EXPECT_EQ(store->count(q).value(), 5);
  q = {};
  q.sender = "dave@corp.example";  // case-insensitive
  EXPECT_EQ(store->count(q).value(), 5);
  q = {};
  q.recipient = "PARTNER";
  EXPECT_EQ(store->count(q).value(), 5);
  q = {};
  q.recipient = "ext_";  // '_' is literal, not a LIKE wildcard
  EXPECT_EQ(store->count(q).value(), 5);
  q.recipient = "ext%";
  EXPECT_EQ(store->count(q).value(), 0);
  q = {};
  q.text = "build";
  EXPECT_EQ(store->count(q).value(), 5);
  q.text = "gmail";  // matches recipients too
  EXPECT_EQ(store->count(q).value(), 5);
  q = {};
  q.from = kDay1 + 24h;
  q.until = kDay1 + 48h;  // incidents at +24h and +36h
  EXPECT_EQ(ids(q), (std::vector<IncidentId>{4, 3}));
  q = {};
  q.sort = SortKey::severity;
  q.limit = 1;
  EXPECT_EQ(store->list(q)->front().max_severity(), Severity::high);
}

TEST_P(StoreContract, StatusUpdatesKeepAHistory) {
  auto store = open_store(location_);
  auto id = store->record(card_incident())->id;
  ASSERT_TRUE(
      store->update_status(id, IncidentStatus::in_progress, "looking", kDay1 + 1h).has_value());
  ASSERT_TRUE(store->update_status(id, IncidentStatus::false_positive, "test data", kDay1 + 2h)
                  .has_value());
  auto got = store->get(id);
  EXPECT_EQ(got->status, IncidentStatus::false_positive);
  ASSERT_EQ(got->history.size(), 2u);
  EXPECT_EQ(got->history[0].status, IncidentStatus::in_progress);
  EXPECT_EQ(got->history[0].comment, "looking");
  EXPECT_EQ(got->history[1].time, kDay1 + 2h);
  IncidentQuery q;
  q.status = IncidentStatus::false_positive;
  EXPECT_EQ(store->count(q).value(), 1);
  auto missing = store->update_status(id + 1, IncidentStatus::resolved, "", kDay1);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, StoreErrorCode::not_found);
}

TEST_P(StoreContract, ChangesRecordWhoMadeThemAndTheOwner) {
  auto store = open_store(location_);
  auto id = store->record(card_incident())->id;
  ASSERT_TRUE(store
                  ->change(id, {IncidentStatus::in_progress, std::string("carol"), "mine", "carol",
                                kDay1 + 1h})
                  .has_value());
  ASSERT_TRUE(
      store->change(id, {std::nullopt, std::string("dave"), "", "alice", kDay1 + 2h}).has_value());
  ASSERT_TRUE(
      store->change(id, {IncidentStatus::resolved, std::nullopt, "done", "dave", kDay1 + 3h})
          .has_value());
  auto got = store->get(id).value();
  EXPECT_EQ(got.status, IncidentStatus::resolved);
  EXPECT_EQ(got.assignee, "dave");
  ASSERT_EQ(got.history.size(), 3u);
  EXPECT_EQ(got.history[0].user, "carol");
  EXPECT_EQ(got.history[0].assignee, std::optional<std::string>("carol"));
  EXPECT_EQ(got.history[1].user, "alice");
  EXPECT_EQ(got.history[1].status, IncidentStatus::in_progress);  // unchanged by an assignment
  EXPECT_EQ(got.history[1].assignee, std::optional<std::string>("dave"));
  EXPECT_EQ(got.history[2].assignee, std::nullopt);
  EXPECT_EQ(got.history[2].comment, "done");
  IncidentQuery q;
  q.assignee = "dave";
  EXPECT_EQ(store->count(q).value(), 1);
  q.assignee = "";
  EXPECT_EQ(store->count(q).value(), 0);
  EXPECT_EQ(store->list({})->front().assignee, "dave");
  auto missing = store->change(id + 1, {IncidentStatus::resolved, std::nullopt, "", "x", kDay1});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, StoreErrorCode::not_found);
}

TEST_P(StoreContract, PartialMatchFiltersOnSenderSubjectAndPolicy) {
  auto store = open_store(location_);
  store->record(card_incident("a")).value();
  auto other = card_incident("b");
  other.sender = "Mallory@Evil.example";
  other.subject = "holiday photos";
  other.policies = {{"Source code", Severity::low, {}}};
  store->record(other).value();
  auto n = [&](auto set) {
    IncidentQuery q;
    set(q);
    return store->count(q).value();
  };
  EXPECT_EQ(n([](auto& q) { q.sender_contains = "evil"; }), 1);
  EXPECT_EQ(n([](auto& q) { q.sender_contains = "corp"; }), 1);
  EXPECT_EQ(n([](auto& q) { q.sender_contains = "example"; }), 2);
  EXPECT_EQ(n([](auto& q) { q.subject_contains = "CUSTOMER"; }), 1);
  EXPECT_EQ(n([](auto& q) { q.policy_contains = "card"; }), 1);
  EXPECT_EQ(n([](auto& q) { q.policy_contains = "o"; }), 2);
  EXPECT_EQ(n([](auto& q) { q.policy_contains = "100%"; }), 0);  // % is literal
}

TEST_P(StoreContract, UsersSessionsAndSavedFiltersAreSharedThroughTheStore) {
  auto store = open_store(location_);
  ASSERT_TRUE(store->put_user({"bob", "hash-b", "analyst"}, false).value());
  ASSERT_TRUE(store->put_user({"alice", "hash-a", "admin"}, false).value());
  EXPECT_FALSE(store->put_user({"bob", "other", "admin"}, false).value());  // kept
  auto users = store->users().value();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].name, "alice");
  EXPECT_EQ(users[1].password_hash, "hash-b");
  EXPECT_EQ(users[1].role, "analyst");

  const auto now = Clock::now();
  ASSERT_TRUE(store->put_session({"th-1", "bob", "csrf-1", now + 1h, ""}).has_value());
  ASSERT_TRUE(store->put_session({"th-old", "bob", "csrf-0", now - 1s, ""}).has_value());
  // Another connection (another console node) sees the same session.
  auto other = open_store(location_);
  auto found = other->find_session("th-1", now).value();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user, "bob");
  EXPECT_EQ(found->csrf_token, "csrf-1");
  EXPECT_EQ(found->role, "analyst");
  EXPECT_FALSE(other->find_session("th-old", now).value());  // expired
  EXPECT_FALSE(other->find_session("th-1", now + 2h).value());
  EXPECT_FALSE(other->find_session("unknown", now).value());
  // A new role applies to the live session at once.
  ASSERT_TRUE(other->put_user({"bob", "hash-b", "admin"}, true).value());
  EXPECT_EQ(store->find_session("th-1", now).value()->role, "admin");

  ASSERT_TRUE(store->put_saved_filter("bob", {"mine", "assignee=bob"}).has_value());
  ASSERT_TRUE(store->put_saved_filter("bob", {"high", "severity=high"}).has_value());
  ASSERT_TRUE(store->put_saved_filter("bob", {"mine", "assignee=bob&status=new"}).has_value());
  ASSERT_TRUE(store->put_saved_filter("alice", {"all", ""}).has_value());
  auto filters = other->saved_filters("bob").value();
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters[0].name, "high");
  EXPECT_EQ(filters[1].query, "assignee=bob&status=new");
  ASSERT_TRUE(store->delete_saved_filter("bob", "high").has_value());
  EXPECT_EQ(store->delete_saved_filter("bob", "high").error().code, StoreErrorCode::not_found);

  ASSERT_TRUE(store->delete_session("th-1").has_value());
  EXPECT_FALSE(other->find_session("th-1", now).value());
  ASSERT_TRUE(store->put_session({"th-2", "bob", "csrf-2", now + 1h, ""}).has_value());
  ASSERT_TRUE(store->delete_user("bob").has_value());
  EXPECT_FALSE(other->find_session("th-2", now).value());  // gone with its user
  EXPECT_TRUE(other->saved_filters("bob")->empty());
  EXPECT_EQ(store->delete_user("bob").error().code, StoreErrorCode::not_found);
  EXPECT_EQ(store->users()->size(), 1u);
}

TEST_P(StoreContract, TheChangeTokenMovesWithNewIncidentsAndChanges) {
  auto store = open_store(location_);
  const auto empty = store->change_token().value();
  auto id = store->record(card_incident())->id;
  const auto one = store->change_token().value();
  EXPECT_NE(one, empty);
  auto other = open_store(location_);
  EXPECT_EQ(other->change_token().value(), one);
  ASSERT_TRUE(
      other->change(id, {IncidentStatus::in_progress, std::nullopt, "", "bob", kDay1}).has_value());
  const auto changed = store->change_token().value();
  EXPECT_NE(changed, one);
  // A repeat moves it too, whether it moves last_seen on or not.
  auto again = card_incident();
  ASSERT_TRUE(other->record(again)->repeated);
  const auto repeated = store->change_token().value();
  EXPECT_NE(repeated, changed);
  ASSERT_TRUE(other->record(again)->repeated);
  EXPECT_NE(store->change_token().value(), repeated);
}

TEST_P(StoreContract, StatsCountBySeverityDayPolicySenderAndAction) {
  auto store = open_store(location_);
  store->record(card_incident("a", kDay1)).value();
  store->record(card_incident("b", kDay1 + 1h)).value();
  auto low = card_incident("c", kDay1 + 24h);
  low.policies = {{"Source code", Severity::low, {}}};
  low.sender = "dave@corp.example";
  low.action = Action::monitor;
  store->record(low).value();
  auto stats = store->stats(std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(stats->by_severity_per_day.size(), 2u);
  EXPECT_EQ(stats->by_severity_per_day[0].day, "2026-05-28");
  EXPECT_EQ(stats->by_severity_per_day[0].severity, Severity::high);
  EXPECT_EQ(stats->by_severity_per_day[0].count, 2);
  EXPECT_EQ(stats->by_severity_per_day[1].severity, Severity::low);
  ASSERT_EQ(stats->top_policies.size(), 3u);
  EXPECT_EQ(stats->top_policies[0].key, "Confidential");  // ties by name
  EXPECT_EQ(stats->top_policies[0].count, 2);
  EXPECT_EQ(stats->top_policies[2].key, "Source code");
  ASSERT_EQ(stats->top_senders.size(), 2u);
  EXPECT_EQ(stats->top_senders[0].key, "alice@corp.example");
  EXPECT_EQ(stats->top_senders[0].count, 2);
  ASSERT_EQ(stats->by_action.size(), 2u);
  EXPECT_EQ(stats->by_action[0].key, "block");
  auto later = store->stats(kDay1 + 2h, std::nullopt, 1);
  ASSERT_EQ(later->top_policies.size(), 1u);
  EXPECT_EQ(later->top_policies[0].key, "Source code");

  // Recipient domains, lower case, an incident counted once per domain.
  low.recipients = {"Eve@Partner.Example", "frank@partner.example"};
  low.content_hash = "d";
  store->record(low).value();
  auto domains = store->stats(std::nullopt, std::nullopt, 10);
  ASSERT_EQ(domains->top_recipient_domains.size(), 2u);
  EXPECT_EQ(domains->top_recipient_domains[0].key, "partner.example");
  EXPECT_EQ(domains->top_recipient_domains[0].count, 4);
  EXPECT_EQ(domains->top_recipient_domains[1].key, "gmail.example");
  EXPECT_EQ(domains->top_recipient_domains[1].count, 3);
  // By hour: the 24 hours before `until` only.
  auto day = store->stats(std::nullopt, kDay1 + 2h, 10);
  ASSERT_EQ(day->by_severity_per_hour.size(), 2u);
  EXPECT_EQ(day->by_severity_per_hour[0].day.size(), std::string("2026-05-28T00").size());
  EXPECT_EQ(day->by_severity_per_hour[0].day.substr(0, 11), "2026-05-28T");
  EXPECT_EQ(day->by_severity_per_hour[0].count, 1);
  auto next_day = store->stats(std::nullopt, kDay1 + 48h, 10);
  ASSERT_EQ(next_day->by_severity_per_hour.size(), 1u);  // c and d: one hour, one severity
  EXPECT_EQ(next_day->by_severity_per_hour[0].count, 2);
  EXPECT_EQ(next_day->by_severity_per_hour[0].severity, Severity::low);
}

TEST_P(StoreContract, PurgeDeletesIncidentsLastSeenBeforeTheCutoffWithTheirHistory) {
  auto store = open_store(location_);
  const auto old_id = store->record(card_incident("old", kDay1))->id;
  ASSERT_TRUE(store->update_status(old_id, IncidentStatus::resolved, "done", kDay1 + 1h));
  const auto recent_id = store->record(card_incident("recent", kDay1 + 240h))->id;
  // First seen long ago, seen again since: stays.
  const auto again_id = store->record(card_incident("again", kDay1))->id;
  ASSERT_TRUE(store->record(card_incident("again", kDay1 + 480h)).has_value());

  auto purged = store->purge(kDay1 + 120h);
  ASSERT_TRUE(purged.has_value()) << purged.error().message;
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(store->get(old_id).error().code, StoreErrorCode::not_found);
  EXPECT_TRUE(store->get(recent_id).has_value());
  EXPECT_EQ(store->get(again_id)->repeat_count, 1);
  EXPECT_EQ(store->count({}).value(), 2);
  IncidentQuery resolved;
  resolved.status = IncidentStatus::resolved;
  EXPECT_EQ(store->count(resolved).value(), 0);
  auto stats = store->stats(std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(stats.has_value());
  ASSERT_EQ(stats->top_policies.size(), 2u);
  EXPECT_EQ(stats->top_policies[0].count, 2);  // the purged incident's policy rows are gone

  EXPECT_EQ(store->purge(kDay1 + 120h).value(), 0);  // nothing left that old
  // The same message again is a new incident with a new id, never the old one.
  const auto reborn = store->record(card_incident("old", kDay1 + 500h));
  ASSERT_TRUE(reborn.has_value());
  EXPECT_FALSE(reborn->repeated);
  EXPECT_GT(reborn->id, again_id);
  // Past every incident's last sighting: all go, in more than one batch.
  for (int i = 0; i < 1100; ++i)
    ASSERT_TRUE(store->record(card_incident("bulk" + std::to_string(i), kDay1)).has_value());
  EXPECT_EQ(store->purge(kDay1 + 1000h).value(), 1103);
  EXPECT_EQ(store->count({}).value(), 0);
}

TEST_P(StoreContract, JsonMatchesTheCliContract) {
  auto store = open_store(location_);
  auto n = card_incident();
  n.subject = "bad \xFF utf8";  // must not throw when rendered
  auto id = store->record(n)->id;
  auto j = to_json(std::vector<Incident>{store->get(id).value()});
  ASSERT_TRUE(j.is_array());
  const auto& i = j[0];
  for (const char* key : {"id", "time", "sender", "recipients", "subject", "message_id", "action",
                          "repeat_count", "policies"})
    EXPECT_TRUE(i.contains(key)) << key;
  EXPECT_EQ(i["id"], id);
  EXPECT_EQ(i["time"], "2026-05-28T20:26:40Z");
  EXPECT_EQ(i["action"], "block");
  EXPECT_EQ(i["status"], "new");
  EXPECT_EQ(i["recipients"][1], "carol@gmail.example");
  EXPECT_EQ(i["policies"][0]["severity"], "high");
  EXPECT_EQ(i["policies"][0]["matches"][0]["samples"][0], "4111********1111");
  EXPECT_EQ(i["policies"][0]["matches"][0]["component"], "body");
  EXPECT_NO_THROW((void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace cordon::incidents::contract
