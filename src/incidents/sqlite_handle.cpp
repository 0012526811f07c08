// RAII wrappers over the sqlite3 C API; see sqlite_handle.hpp.
#include "incidents/detail/sqlite_handle.hpp"

#include <utility>

namespace cordon::incidents::sqlite {

StoreError error_from(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  StoreErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? StoreErrorCode::busy
                                                                             : StoreErrorCode::io;
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return {code, std::move(message)};
}

StoreResult<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return fail(error_from(db, rc, "prepare"));
  }
  return Statement(db, raw);
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

StoreResult<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(error_from(db_, rc, "step"));
}

Status<StoreError> Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return fail(row.error());
    if (!row.value()) return Ok{};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::column_int(int col) const {
  return sqlite3_column_int64(stmt_.get(), col);
}

std::string Statement::column_text(int col) const {
  const auto* text = sqlite3_column_text(stmt_.get(), col);
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n))
              : std::string();
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

Status<StoreError> exec(sqlite3* db, std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(error_from(db, rc, "exec"));
  return Ok{};
}

StoreResult<Transaction> Transaction::begin_immediate(sqlite3* db) {
  if (auto ok = exec(db, "BEGIN IMMEDIATE"); !ok) return fail(ok.error());
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status<StoreError> Transaction::commit() {
  auto ok = exec(db_, "COMMIT");
  if (ok) db_ = nullptr;
  return ok;
}

}  // namespace cordon::incidents::sqlite
