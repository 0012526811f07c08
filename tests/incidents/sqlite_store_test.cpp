// SQLite incident store: the backend contract (store_contract.hpp) on a
// temporary database file, and what only SQLite does (its schema check).
#include "incidents/sqlite_store.hpp"

#include <sqlite3.h>

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
