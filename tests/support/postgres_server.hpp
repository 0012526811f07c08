// A throwaway PostgreSQL server for tests and benchmarks: initdb and pg_ctl
// from Debian's postgresql package in a temporary directory, listening on a
// free loopback port, fsync off (the data is thrown away; but commits stay
// synchronous, so an immediate stop loses nothing a client was told was
// committed, as on a real server). initdb refuses to
// run as root, so as root the server runs as the `postgres` user. Start it
// once per suite; stop() and start() simulate the database going away.
#pragma once

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/process.hpp"

namespace cordon::testing {

class PostgresServer {
 public:
  // Empty when no PostgreSQL binaries are installed.
  static std::string bin_dir() {
    namespace fs = std::filesystem;
    std::string best;
    std::error_code ec;
    for (fs::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end;
         it.increment(ec))
      if (fs::exists(it->path() / "bin" / "initdb") && it->path().string() > best)
        best = it->path().string();
    return best.empty() ? best : best + "/bin";
  }

  // durable: fsync on, as a production server (benchmarks); tests leave it off.
  explicit PostgresServer(bool durable = false) : durable_(durable) {
    bin_ = bin_dir();
    if (bin_.empty()) {
      error_ = "no PostgreSQL under /usr/lib/postgresql (install the postgresql package)";
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) {
        error_ = "running as root and there is no postgres user";
        return;
      }
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "chown of the data directory failed";
        return;
      }
      as_ = "runuser -u postgres -- ";
    }
    port_ = free_port();
    auto init = run_command(as_ + bin_ + "/initdb -D " + dir_ +
                            "/data -U cordon --auth=trust --locale=C -E UTF8 --no-sync "
                            ">" +
                            dir_ + "/initdb.log 2>&1; echo $?");
    if (init.output != "0\n") {
      error_ = "initdb failed, see " + dir_ + "/initdb.log";
      return;
    }
    if (!start()) error_ = "pg_ctl start failed, see " + dir_ + "/server.log";
  }

  ~PostgresServer() {
    if (!dir_.empty()) {
      if (running_) stop();
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }

  // postgresql://cordon@127.0.0.1:PORT/DB
  std::string url(const std::string& db = "postgres") const {
    return "postgresql://cordon@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  // Runs SQL with psql against `db`; true on success.
  bool psql(const std::string& sql, const std::string& db = "postgres") const {
    return run_command(bin_ + "/psql -q -X -v ON_ERROR_STOP=1 -d '" + url(db) + "' -c \"" + sql +
                       "\" >/dev/null 2>&1; echo $?")
               .output == "0\n";
  }
  // A new empty database; returns its URL ("" on failure).
  std::string create_database(const std::string& name) const {
    return psql("CREATE DATABASE " + name) ? url(name) : std::string();
  }

  bool start() {
    auto r = run_command(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                         "/server.log -w -t 30 -o \"-c listen_addresses=127.0.0.1 -p " +
                         std::to_string(port_) + " -k " + dir_ +
                         (durable_ ? "" : " -c fsync=off -c full_page_writes=off") +
                         " -c max_connections=200\" start >/dev/null 2>&1; echo $?");
    running_ = r.output == "0\n";
    return running_;
  }
  // Immediate shutdown: connections are cut as by a crash or a network loss.
  bool stop() {
    auto r = run_command(as_ + bin_ + "/pg_ctl -D " + dir_ +
                         "/data -m immediate -w -t 30 stop >/dev/null 2>&1; echo $?");
    running_ = false;
    return r.output == "0\n";
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    return port;
  }

  std::string bin_;
  std::string dir_;
  std::string as_;
  std::string error_;
  int port_ = 0;
  bool running_ = false;
  bool durable_ = false;
};

}  // namespace cordon::testing
