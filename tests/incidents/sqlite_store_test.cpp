// SQLite incident store: the backend contract (store_contract.hpp) on a
// temporary database file, and what only SQLite does (its schema check).
#include "incidents/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incidents/store_contract.hpp"

using namespace cordon::incidents;
using namespace cordon::incidents::contract;

namespace {

const StoreBackend kSqlite{"sqlite",
                           [](const std::string& scratch) { return scratch + "incidents.db"; },
                           [](const std::string& path) -> std::unique_ptr<IncidentStore> {
                             auto s = SqliteIncidentStore::open(path);
                             return s.has_value() ? std::move(s).value() : nullptr;
                           }};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(&kSqlite),
                         [](const auto& info) { return info.param->name; });
TEST(SqliteIncidentStore, RefusesANewerSchema) {
  TempDir dir;
  const std::string path = dir.file("incidents.db");
  ASSERT_TRUE(kSqlite.open(path));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto s = SqliteIncidentStore::open(path);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, StoreErrorCode::schema);
  EXPECT_FALSE(SqliteIncidentStore::open(dir.file("no/such/dir/x.db")).has_value());
}

// A database of the first schema (no client columns, no console tables)
// gains both on open, keeping its incidents.
TEST(SqliteIncidentStore, MigratesAVersionOneDatabase) {
  TempDir dir;
  const std::string path = dir.file("incidents.db");
  {
    auto store = kSqlite.open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->record(card_incident("old")).has_value());
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE saved_filters; DROP TABLE console_sessions; "
                         "DROP TABLE console_users; DROP INDEX incidents_assignee; "
                         "ALTER TABLE incidents DROP COLUMN assignee; "
                         "ALTER TABLE status_history DROP COLUMN changed_by; "
                         "ALTER TABLE status_history DROP COLUMN assignee; "
                         "ALTER TABLE incidents DROP COLUMN client_address; "
                         "ALTER TABLE incidents DROP COLUMN client_helo; "
                         "DROP INDEX incidents_last_seen; "
                         "DELETE FROM schema_version WHERE version >= 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  auto store = kSqlite.open(path);
  ASSERT_TRUE(store);
  auto n = card_incident("new");
  n.client_address = "192.0.2.9";
  auto id = store->record(n);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(store->get(id->id)->client_address, "192.0.2.9");
  EXPECT_EQ(store->count({}).value(), 2);
  EXPECT_TRUE(store->put_user({"admin", "h", "admin"}, false).value());
}

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 07777;
}

}  // namespace

// Whatever the umask, the database and the WAL files SQLite adds are the
// owner's only: incidents hold subjects, addresses and masked matches.
TEST(SqliteStore, DatabaseIsCreatedOwnerOnlyWhateverTheUmask) {
  TempDir dir;
  const mode_t old_umask = ::umask(0);
  auto store = kSqlite.open(dir.file("incidents.db"));
  ::umask(old_umask);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->record(card_incident()).has_value());
  EXPECT_EQ(mode_of(dir.file("incidents.db")), 0600u);
  EXPECT_EQ(mode_of(dir.file("incidents.db-wal")), 0600u);
}

TEST(SqliteStore, AnExistingDatabaseOpenToOthersIsTightened) {
  TempDir dir;
  { ASSERT_TRUE(kSqlite.open(dir.file("incidents.db"))); }
  ASSERT_EQ(::chmod(dir.file("incidents.db").c_str(), 0644), 0);
  auto store = kSqlite.open(dir.file("incidents.db"));
  ASSERT_TRUE(store);
  EXPECT_EQ(mode_of(dir.file("incidents.db")), 0600u);
}

// A database of schema version 2 (before owners, users and sessions) is
// brought to the current version keeping its incidents and history.
TEST(SqliteStore, AVersionTwoDatabaseIsMigratedKeepingItsIncidents) {
  TempDir dir;
  const std::string path = dir.file("incidents.db");
  {
    auto store = kSqlite.open(path);
    ASSERT_TRUE(store);
    auto id = store->record(card_incident())->id;
    ASSERT_TRUE(store->update_status(id, IncidentStatus::in_progress, "old", kDay1).has_value());
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE saved_filters; DROP TABLE console_sessions; "
                         "DROP TABLE console_users; DROP INDEX incidents_assignee; "
                         "ALTER TABLE incidents DROP COLUMN assignee; "
                         "ALTER TABLE status_history DROP COLUMN changed_by; "
                         "ALTER TABLE status_history DROP COLUMN assignee; "
                         "DROP INDEX incidents_last_seen; "
                         "DELETE FROM schema_version WHERE version >= 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  auto store = kSqlite.open(path);
  ASSERT_TRUE(store);
  auto got = store->get(1).value();
  EXPECT_EQ(got.assignee, "");
  ASSERT_EQ(got.history.size(), 1u);
  EXPECT_EQ(got.history[0].comment, "old");
  EXPECT_EQ(got.history[0].user, "");
  EXPECT_TRUE(store->put_user({"admin", "h", "admin"}, false).value());
}
