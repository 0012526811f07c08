// The libpq functions cordon calls, loaded with dlopen the first time one is
// called, instead of libpq being linked: libpq and the twenty libraries it
// brings (Kerberos, LDAP, SASL, GnuTLS) were loaded, relocated and resolved
// by every cordon process, a tenth of the start-up of `cordon scan` on one
// message, though only a store on PostgreSQL uses them. Each function here
// has libpq's own name and signature (checked against libpq-fe.h) and calls
// libpq's. When libpq cannot be loaded, connecting fails and a connection
// string does not parse, with the loader's reason: never a silent pass.
#include <dlfcn.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

#define CORDON_LIBPQ_FUNCTIONS(X)                                                                 \
  X(PQconnectdbParams)                                                                            \
  X(PQconninfoParse)                                                                              \
  X(PQconninfoFree)                                                                               \
  X(PQfreemem) X(PQfinish) X(PQstatus) X(PQtransactionStatus) X(PQerrorMessage) X(PQconsumeInput) \
      X(PQexec) X(PQexecParams) X(PQresultStatus) X(PQresultErrorMessage) X(PQresultErrorField)   \
          X(PQntuples) X(PQgetvalue) X(PQgetlength) X(PQgetisnull) X(PQcmdTuples) X(PQclear)      \
              X(PQnotifies) X(PQsocket)

struct LibPq {
#define CORDON_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  CORDON_LIBPQ_FUNCTIONS(CORDON_LIBPQ_POINTER)
#undef CORDON_LIBPQ_POINTER
  std::string error;  // why it could not be loaded; empty when it was
};

LibPq load_libpq() {
  LibPq pq;
  // The handle is kept for the life of the process: libpq is never unloaded.
  void* handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    pq.error = why ? why : "libpq.so.5 cannot be loaded";
    return pq;
  }
#define CORDON_LIBPQ_RESOLVE(name)                                     \
  pq.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name)); \
  if (pq.name == nullptr && pq.error.empty()) pq.error = "libpq.so.5 has no " #name;
  CORDON_LIBPQ_FUNCTIONS(CORDON_LIBPQ_RESOLVE)
#undef CORDON_LIBPQ_RESOLVE
  if (!pq.error.empty()) {
    // All or nothing: a partly resolved libpq is not used.
    std::string error = std::move(pq.error);
    pq = LibPq{};
    pq.error = std::move(error);
  }
  return pq;
}

const LibPq& libpq() {
  static const LibPq pq = load_libpq();
  return pq;
}

}  // namespace

// Without libpq, nothing is ever connected or parsed, so the functions on a
// connection or a result are never reached with a live one; each still
// answers as libpq does for a null argument.
extern "C" {

PGconn* PQconnectdbParams(const char* const* keywords, const char* const* values,
                          int expand_dbname) {
  const auto& pq = libpq();
  return pq.PQconnectdbParams ? pq.PQconnectdbParams(keywords, values, expand_dbname) : nullptr;
}

PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  const auto& pq = libpq();
  if (pq.PQconninfoParse) return pq.PQconninfoParse(conninfo, errmsg);
  if (errmsg) *errmsg = strdup(("libpq could not be loaded: " + pq.error).c_str());
  return nullptr;
}

void PQconninfoFree(PQconninfoOption* options) {
  if (const auto& pq = libpq(); pq.PQconninfoFree) pq.PQconninfoFree(options);
}

void PQfreemem(void* ptr) {
  const auto& pq = libpq();
  if (pq.PQfreemem)
    pq.PQfreemem(ptr);
  else
    std::free(ptr);  // what PQconninfoParse above allocated
}

void PQfinish(PGconn* conn) {
  if (const auto& pq = libpq(); pq.PQfinish) pq.PQfinish(conn);
}

PGnotify* PQnotifies(PGconn* conn) {
  const auto& pq = libpq();
  return pq.PQnotifies ? pq.PQnotifies(conn) : nullptr;
}

int PQsocket(const PGconn* conn) {
  const auto& pq = libpq();
  return pq.PQsocket ? pq.PQsocket(conn) : -1;
}

ConnStatusType PQstatus(const PGconn* conn) {
  const auto& pq = libpq();
  return pq.PQstatus ? pq.PQstatus(conn) : CONNECTION_BAD;
}

PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  const auto& pq = libpq();
  return pq.PQtransactionStatus ? pq.PQtransactionStatus(conn) : PQTRANS_UNKNOWN;
}

char* PQerrorMessage(const PGconn* conn) {
  const auto& pq = libpq();
  static char none[] = "libpq could not be loaded";
  return pq.PQerrorMessage ? pq.PQerrorMessage(conn) : none;
}

int PQconsumeInput(PGconn* conn) {
  const auto& pq = libpq();
  return pq.PQconsumeInput ? pq.PQconsumeInput(conn) : 0;
}

PGresult* PQexec(PGconn* conn, const char* query) {
  const auto& pq = libpq();
  return pq.PQexec ? pq.PQexec(conn, query) : nullptr;
}

PGresult* PQexecParams(PGconn* conn, const char* command, int nParams, const Oid* paramTypes,
                       const char* const* paramValues, const int* paramLengths,
                       const int* paramFormats, int resultFormat) {
  const auto& pq = libpq();
  return pq.PQexecParams ? pq.PQexecParams(conn, command, nParams, paramTypes, paramValues,
                                           paramLengths, paramFormats, resultFormat)
                         : nullptr;
}

ExecStatusType PQresultStatus(const PGresult* res) {
  const auto& pq = libpq();
  return pq.PQresultStatus ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
}

char* PQresultErrorMessage(const PGresult* res) {
  const auto& pq = libpq();
  static char none[] = "";
  return pq.PQresultErrorMessage ? pq.PQresultErrorMessage(res) : none;
}

char* PQresultErrorField(const PGresult* res, int fieldcode) {
  const auto& pq = libpq();
  return pq.PQresultErrorField ? pq.PQresultErrorField(res, fieldcode) : nullptr;
}

int PQntuples(const PGresult* res) {
  const auto& pq = libpq();
  return pq.PQntuples ? pq.PQntuples(res) : 0;
}

char* PQgetvalue(const PGresult* res, int tup_num, int field_num) {
  const auto& pq = libpq();
  static char none[] = "";
  return pq.PQgetvalue ? pq.PQgetvalue(res, tup_num, field_num) : none;
}

int PQgetlength(const PGresult* res, int tup_num, int field_num) {
  const auto& pq = libpq();
  return pq.PQgetlength ? pq.PQgetlength(res, tup_num, field_num) : 0;
}

int PQgetisnull(const PGresult* res, int tup_num, int field_num) {
  const auto& pq = libpq();
  return pq.PQgetisnull ? pq.PQgetisnull(res, tup_num, field_num) : 1;
}

char* PQcmdTuples(PGresult* res) {
  const auto& pq = libpq();
  static char none[] = "";
  return pq.PQcmdTuples ? pq.PQcmdTuples(res) : none;
}

void PQclear(PGresult* res) {
  if (const auto& pq = libpq(); pq.PQclear) pq.PQclear(res);
}

}  // extern "C"
