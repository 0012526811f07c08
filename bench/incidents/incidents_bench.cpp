// Incident store benchmark: incidents recorded per second into SQLite (the
// single-node reference, measured in the same run) and into a throwaway
// PostgreSQL with fsync on, by 1 and 4 writer threads and by two stores (two
// nodes) at once; half the writes are repeats of an earlier message (the
// ON CONFLICT path). Prints each figure and its ratio to SQLite.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "incidents/outbox_store.hpp"
#include "incidents/postgres_store.hpp"
#include "incidents/sqlite_store.hpp"
#include "support/postgres_server.hpp"

using namespace cordon::incidents;
using Steady = std::chrono::steady_clock;

namespace {

NewIncident incident(int i) {
  NewIncident n;
  n.time = Clock::now();
  n.sender = "alice@corp.example";
  n.recipients = {"bob@partner.example"};
  n.subject = "customer list " + std::to_string(i);
  n.message_id = "<" + std::to_string(i) + "@corp.example>";
  // Every second write repeats the message before it.
  n.content_hash = "h" + std::to_string(i / 2);
  n.policies = {
      {"PCI card numbers", Severity::high, {{"credit_card", "body", 2, {"4111********1111"}}}}};
  return n;
}

// Writes `total` incidents split over `threads` threads round-robin over
// `stores`; returns incidents per second (0 if any write failed).
double run(const std::vector<IncidentStore*>& stores, int threads, int total, int offset) {
  std::vector<std::thread> pool;
  std::atomic<int> failed{0};
  const auto start = Steady::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      IncidentStore& store = *stores[static_cast<std::size_t>(t) % stores.size()];
      for (int i = t; i < total; i += threads)
        if (!store.record(incident(offset + i)).has_value()) ++failed;
    });
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(Steady::now() - start).count();
  return failed.load() ? 0.0 : total / s;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 4000;
  std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return 2;
  auto sqlite = SqliteIncidentStore::open(tmpl + "/incidents.db");
  if (!sqlite) return 2;
  const double ref = run({sqlite->get()}, 1, n, 0);
  std::printf("incidents: %d writes per case (half repeats)\n", n);
  std::printf("  sqlite, 1 writer (reference)      %8.0f /s\n", ref);

  cordon::testing::PostgresServer server(/*durable=*/true);
  if (!server.ok()) {
    std::fprintf(stderr, "incidents_bench: %s\n", server.error().c_str());
    std::filesystem::remove_all(tmpl);
    return 2;
  }
  auto url = server.create_database("bench");
  // Each node as prevent would run it, with room for 8 concurrent writes.
  PostgresOptions options;
  options.max_connections = 8;
  auto one = PostgresIncidentStore::open(url, options);
  auto two = PostgresIncidentStore::open(url, options);
  if (!one || !two) {
    std::fprintf(stderr, "incidents_bench: %s\n",
                 (!one ? one.error() : two.error()).message.c_str());
    return 2;
  }
  struct Case {
    const char* name;
    std::vector<IncidentStore*> stores;
    int threads;
  };
  const std::vector<Case> cases = {
      {"postgresql, 1 writer", {one->get()}, 1},
      {"postgresql, 4 writers", {one->get()}, 4},
      {"postgresql, 2 nodes x 4 writers", {one->get(), two->get()}, 8},
      {"postgresql, 2 nodes x 8 writers", {one->get(), two->get()}, 16},
  };
  // As prevent uses it: behind the outbox.
  OutboxIncidentStore outbox(std::move(one).value(), tmpl + "/incident-outbox");
  int offset = n;
  for (const auto& c : cases) {
    const double rate = run(c.stores, c.threads, n, offset);
    offset += n;
    std::printf("  %-33s %8.0f /s  (%.2fx sqlite)\n", c.name, rate, ref > 0 ? rate / ref : 0.0);
  }
  const double via_outbox = run({&outbox}, 4, n, offset);
  std::printf("  %-33s %8.0f /s  (%.2fx sqlite)\n", "postgresql via outbox, 4 writers", via_outbox,
              ref > 0 ? via_outbox / ref : 0.0);
  std::filesystem::remove_all(tmpl);
  return 0;
}
