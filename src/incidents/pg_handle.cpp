// RAII wrappers over libpq; see detail/pg_handle.hpp.
#include "incidents/detail/pg_handle.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/ascii.hpp"

namespace cordon::incidents::pg {
namespace {

std::string chomp(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Text PostgreSQL accepts: valid UTF-8 without NUL.
std::string valid_text(std::string_view s) {
  std::string out;
  if (util::ascii_prefix_length(s) == s.size()) {
    out.assign(s);
  } else {
    // nlohmann's replacing serialiser is the one UTF-8 repair in this component.
    const std::string quoted = nlohmann::json(std::string(s))
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out = nlohmann::json::parse(quoted).get<std::string>();
  }
  std::erase(out, '\0');
  return out;
}

StoreError error_from(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* text = result ? PQresultErrorMessage(result) : nullptr;
  std::string message =
      std::string(what) + ": " + chomp((text && *text) ? text : PQerrorMessage(conn));
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  // 57014 query_canceled (statement_timeout), 55P03 lock_not_available.
  const bool timeout =
      state && (std::string_view(state) == "57014" || std::string_view(state) == "55P03");
  return {timeout ? StoreErrorCode::busy : StoreErrorCode::io, std::move(message)};
}

}  // namespace

std::string Rows::text(int row, int col) const {
  const char* v = PQgetvalue(result_.get(), row, col);
  return std::string(v, static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::int64_t Rows::integer(int row, int col) const {
  const char* v = PQgetvalue(result_.get(), row, col);
  const int n = PQgetlength(result_.get(), row, col);
  std::int64_t out = 0;
  std::from_chars(v, v + n, out);
  return out;
}

std::int64_t Rows::affected() const {
  const char* v = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(v, v + std::char_traits<char>::length(v), out);
  return out;
}

Params& Params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add(std::string_view value) {
  values_.emplace_back(valid_text(value));
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

StoreResult<Rows> exec(PGconn* conn, std::string_view sql, const Params& params) {
  const std::string statement(sql);
  const auto values = params.pointers();
  PGresult* raw = PQexecParams(conn, statement.c_str(), params.size(), nullptr, values.data(),
                               nullptr, nullptr, 0);
  Rows rows(raw);  // owns it from here
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return fail(error_from(conn, raw, "postgresql"));
  return rows;
}

Status<StoreError> exec_script(PGconn* conn, std::string_view sql) {
  const std::string script(sql);
  std::unique_ptr<PGresult, ClearResult> result(PQexec(conn, script.c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return fail(error_from(conn, result.get(), "postgresql"));
  return Ok{};
}

std::string numbered(std::string_view sql, int first) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = first;
  for (char c : sql) {
    if (c == '?')
      out += "$" + std::to_string(next++);
    else
      out += c;
  }
  return out;
}

StoreResult<Conn> connect(const std::string& url, const ConnectOptions& options) {
  // Keywords are applied in order and the URL comes last, so what it says
  // wins over these defaults. tcp_user_timeout and keepalives bound how long
  // a call can hang on a peer that vanished without closing the connection.
  const std::string connect_timeout = std::to_string(options.connect_timeout_s);
  const std::string user_timeout = std::to_string(options.statement_timeout_ms + 1000);
  const char* keys[] = {"connect_timeout",
                        "tcp_user_timeout",
                        "keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "application_name",
                        "dbname",
                        nullptr};
  const char* values[] = {
      connect_timeout.c_str(),          user_timeout.c_str(), "1",    "10", "5", "3",
      options.application_name.c_str(), url.c_str(),          nullptr};
  Conn conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn)
    return fail(StoreError{StoreErrorCode::open_failed,
                           "postgresql: out of memory, or libpq could not be loaded"});
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return fail(StoreError{StoreErrorCode::open_failed,
                           "postgresql: " + chomp(PQerrorMessage(conn.get()))});
  }
  // A slow database must not hold a worker thread for long: the statement
  // fails, the incident goes to the outbox, the mail is answered.
  const std::string set =
      "SET statement_timeout = " + std::to_string(options.statement_timeout_ms) +
      "; SET lock_timeout = " + std::to_string(options.statement_timeout_ms) +
      "; SET client_encoding = 'UTF8'; SET client_min_messages = warning";
  if (auto ok = exec_script(conn.get(), set); !ok)
    return fail(StoreError{StoreErrorCode::open_failed, ok.error().message});
  return conn;
}

std::optional<std::string> check_url(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  if (parsed) {
    PQconninfoFree(parsed);
    return std::nullopt;
  }
  std::string reason = chomp(error ? error : "cannot parse the connection string");
  if (error) PQfreemem(error);
  return reason;
}

}  // namespace cordon::incidents::pg
