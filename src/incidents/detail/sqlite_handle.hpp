// Thin RAII wrappers over the sqlite3 C API: a connection and a prepared
// statement that finalise themselves, with errors as StoreError values.
// Internal to src/incidents.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "incidents/store.hpp"

namespace cordon::incidents::sqlite {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

StoreError error_from(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  static StoreResult<Statement> prepare(sqlite3* db, std::string_view sql);

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);

  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> error.
  StoreResult<bool> step();
  // Runs to completion, ignoring rows.
  Status<StoreError> run();
  // Makes the statement reusable with new bindings.
  void reset();

  std::int64_t column_int(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt_;
};

// Executes one or more statements without results (schema, pragmas, BEGIN).
Status<StoreError> exec(sqlite3* db, std::string_view sql);

// Rolls back on destruction unless commit() succeeded: an early return on an
// error never leaves a transaction open.
class Transaction {
 public:
  // BEGIN IMMEDIATE takes the write lock up front, so two processes
  // recording the same message serialise instead of both inserting.
  static StoreResult<Transaction> begin_immediate(sqlite3* db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status<StoreError> commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace cordon::incidents::sqlite
