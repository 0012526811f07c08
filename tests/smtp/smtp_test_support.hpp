// Helpers for the smtp peer tests: an in-process test server on 127.0.0.1
// port 0 running on its own thread, a self-signed certificate made with the
// openssl CLI, smtp-sink child processes, and a way to run a client
// coroutine to completion with a hard time bound.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "smtp/server.hpp"
#include "support/process.hpp"

namespace cordon::smtp::testing {

inline std::string quote(const std::string& s) {
  return "'" + s + "'";
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cordon-smtp-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes cert.pem and key.pem into `dir` (RSA 2048, CN=localhost, 1 day).
inline bool make_self_signed(const std::filesystem::path& dir) {
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
      quote((dir / "key.pem").string()) + " -out " + quote((dir / "cert.pem").string()) +
      " >/dev/null 2>&1";
  return cordon::testing::run_command(cmd).exit_code == 0;
}

// A CA and a server certificate it signed for `name` (DNS and IP 127.0.0.1),
// made with the openssl command line in `dir`.
inline bool make_ca_signed(const std::filesystem::path& dir, const std::string& name) {
  auto q = [&](const char* f) { return quote((dir / f).string()); };
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 ";
  return cordon::testing::run_command("openssl req -x509" + ec +
                                      "-subj /CN=cordon-test-ca -keyout " + q("ca.key") + " -out " +
                                      q("ca.pem") + " >/dev/null 2>&1")
                 .exit_code == 0 &&
         cordon::testing::run_command("openssl req -x509" + ec + "-subj /CN=" + name +
                                      " -addext subjectAltName=DNS:" + name + ",IP:127.0.0.1 -CA " +
                                      q("ca.pem") + " -CAkey " + q("ca.key") + " -keyout " +
                                      q("key.pem") + " -out " + q("cert.pem") + " >/dev/null 2>&1")
                 .exit_code == 0;
}

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
inline unsigned short free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

inline asio::ip::tcp::endpoint local(unsigned short port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

// The server plus the thread that runs it; stopped by the destructor.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}, HandlerFactory factory = {})
      : store_(std::make_shared<MemoryStore>()),
        work_(asio::make_work_guard(io_)),
        server_(io_.get_executor(), std::move(options),
                factory ? std::move(factory) : memory_handler_factory(store_)) {
    auto bound = server_.listen(local(0));
    if (bound) port_ = bound->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    server_.shutdown();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return port_; }
  MemoryStore& store() { return *store_; }
  Server& server() { return server_; }
  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  std::shared_ptr<MemoryStore> store_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  Server server_;
  unsigned short port_ = 0;
  std::thread thread_;
};

// A child process (e.g. smtp-sink) killed by its pid when this goes away.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Waits until something accepts TCP connections on the port.
inline bool wait_for_port(unsigned short port,
                          std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.connect(local(port), ec);
    if (!ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// A test that needs Postfix's smtp-sink skips, saying why, where Postfix is
// not installed (scripts/install-deps.sh leaves it out beside another MTA).
#define CORDON_SKIP_WITHOUT_SMTP_SINK()                                      \
  if (::access("/usr/sbin/smtp-sink", X_OK) != 0)                            \
  GTEST_SKIP() << "Postfix is not installed (/usr/sbin/smtp-sink missing): " \
                  "scripts/install-deps.sh does not install it beside another MTA"

// smtp-sink on a free port with extra options (e.g. {"-r", "RCPT"}).
class SmtpSink {
 public:
  explicit SmtpSink(std::vector<std::string> options = {}) : port_(free_port()) {
    std::vector<std::string> argv{"/usr/sbin/smtp-sink", "-u", "root"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("127.0.0.1:" + std::to_string(port_));
    argv.push_back("100");
    process_ = std::make_unique<ChildProcess>(argv);
    ready_ = process_->running() && wait_for_port(port_);
  }
  bool ready() const { return ready_; }
  unsigned short port() const { return port_; }

 private:
  unsigned short port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

// Runs a coroutine on a fresh io_context and returns its value.
template <class T>
T run_coroutine(std::function<asio::awaitable<T>(asio::any_io_executor)> make) {
  asio::io_context io;
  auto future = asio::co_spawn(io, make(io.get_executor()), asio::use_future);
  io.run_for(std::chrono::seconds(30));
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    throw std::runtime_error("client coroutine did not finish within 30 s");
  return future.get();
}

// Runs tests/smtp/smtp_probe.py SCENARIO PORT [ARGS] and returns its output.
inline cordon::testing::CommandResult probe(const std::string& scenario, unsigned short port,
                                            const std::string& extra = "") {
  // Found beside this header (__FILE__ is absolute under CMake), so the test
  // does not depend on the environment CTest passes.
  std::string script = (std::filesystem::path(__FILE__).parent_path() / "smtp_probe.py").string();
  return cordon::testing::run_command("timeout 60 python3 " + quote(script) + " " + scenario + " " +
                                      std::to_string(port) + " " + extra + " 2>&1");
}

}  // namespace cordon::smtp::testing
