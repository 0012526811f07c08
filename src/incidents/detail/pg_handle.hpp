// Thin RAII wrappers over libpq: a connection, a result, text parameters,
// and errors as StoreError values. Internal to src/incidents.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "incidents/store.hpp"

namespace cordon::incidents::pg {

struct CloseConn {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, CloseConn>;

// The rows of one statement's result.
class Rows {
 public:
  explicit Rows(PGresult* r) : result_(r) {}
  int size() const { return PQntuples(result_.get()); }
  std::string text(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, ClearResult> result_;
};

// Parameters sent as text. Strings are made valid for a UTF8 database:
// invalid sequences become U+FFFD and NUL bytes are dropped (PostgreSQL
// text can hold neither), so a hostile subject never fails a write.
class Params {
 public:
  Params& add(std::int64_t value);
  Params& add(std::string_view value);
  Params& add_null();
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

// Runs one statement. A lost connection, a timeout or an SQL error is a
// StoreError: busy for a statement or lock timeout, io otherwise.
StoreResult<Rows> exec(PGconn* conn, std::string_view sql, const Params& params = {});
// Runs a script of statements without parameters (schema migrations).
Status<StoreError> exec_script(PGconn* conn, std::string_view sql);

// Rewrites the `?` parameter markers of rows::Where into PostgreSQL's $1, $2...
std::string numbered(std::string_view sql, int first = 1);

// Connects: `url` is a libpq URI or key=value string; timeouts are given
// as defaults the URL may override. Errors are open_failed.
struct ConnectOptions {
  int connect_timeout_s = 3;
  int statement_timeout_ms = 5000;
  std::string application_name = "cordon";
};
StoreResult<Conn> connect(const std::string& url, const ConnectOptions& options);

// Checks that libpq can parse a connection string; the reason when not.
std::optional<std::string> check_url(const std::string& url);

}  // namespace cordon::incidents::pg
