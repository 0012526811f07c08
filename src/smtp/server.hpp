// SMTP server: a listener that runs one session coroutine per connection on
// standalone Asio. The session is the protocol state machine (see
// session.cpp); roles plug in through the Handler (handler.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include "smtp/handler.hpp"
#include "util/result.hpp"

namespace cordon::smtp {

// Every limit has one enforcement point in the session (or, for the
// per-connection ones, in the accept loop) and one reply. A zero count or
// duration switches that limit off.
struct ServerLimits {
  std::size_t max_command_line = 512;          // octets incl. CRLF -> 501 5.5.2
  std::size_t max_data_line = 64 * 1024;       // octets incl. CRLF -> 550 5.6.0 after DATA
  std::size_t max_recipients = 1000;           // per message -> 452 4.5.3 (not an error)
  std::uint64_t max_message_size = 50u << 20;  // octets, advertised as SIZE -> 552 5.3.4
  std::size_t max_errors = 20;                 // client errors per session -> 421 4.7.0, close
  std::size_t max_connections = 200;           // concurrent sessions -> 421 4.3.2, close
  // Per client address (IPv4-mapped IPv6 counts as IPv4), like Postfix's
  // anvil: concurrent sessions -> 421 4.7.0, close; connections per
  // connection_rate_interval (refused ones count too) -> 421 4.7.0, close.
  std::size_t max_connections_per_client = 20;
  std::size_t max_connection_rate_per_client = 600;
  std::chrono::milliseconds connection_rate_interval{std::chrono::minutes(1)};
  // Clients exempt from the two per-client limits (not from max_connections).
  // Default: loopback, as the configuration's default (so a gateway and a
  // prevent on one host never throttle each other); null: nobody is exempt.
  // The roles pass their configured networks here.
  std::function<bool(const asio::ip::address&)> client_limit_exempt =
      [](const asio::ip::address& a) { return a.is_loopback(); };
  // Wall-clock bounds that no trickle of bytes can extend: the whole session
  // -> 421 4.4.2 and close; the DATA phase from 354 to the final dot -> 421
  // 4.4.2 and close (the transaction is dropped).
  std::chrono::milliseconds max_session_time{std::chrono::minutes(30)};
  std::chrono::milliseconds max_data_time{std::chrono::minutes(10)};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};   // waiting for a command
  std::chrono::milliseconds data_timeout{std::chrono::minutes(3)};   // waiting for DATA input
  std::chrono::milliseconds tls_timeout{std::chrono::minutes(1)};    // TLS handshake
  std::chrono::milliseconds write_timeout{std::chrono::minutes(1)};  // sending one reply
};

// What a server has counted since it was made (a snapshot; each field only
// grows). Roles export these as metrics.
struct ServerCounters {
  std::uint64_t accepted = 0;               // connections that became sessions
  std::uint64_t refused_busy = 0;           // 421 4.3.2: max_connections
  std::uint64_t refused_client_limit = 0;   // 421 4.7.0: max_connections_per_client
  std::uint64_t refused_client_rate = 0;    // 421 4.7.0: max_connection_rate_per_client
  std::uint64_t session_time_exceeded = 0;  // 421 4.4.2: max_session_time
  std::uint64_t data_time_exceeded = 0;     // 421 4.4.2: max_data_time
  std::uint64_t timeouts = 0;               // 421 4.4.2: idle_timeout / data_timeout
  std::uint64_t too_many_errors = 0;        // 421 4.7.0: max_errors
  std::uint64_t recipients_over_limit = 0;  // 452 4.5.3: max_recipients
  std::uint64_t accept_failures = 0;        // accept() errors of any kind
  std::uint64_t accept_backoffs = 0;        // pauses on EMFILE/ENFILE/ENOBUFS/ENOMEM
};

struct ServerOptions {
  std::string hostname = "localhost";  // greeting and EHLO name
  ServerLimits limits;
  std::shared_ptr<asio::ssl::context> tls;  // STARTTLS offered only when set
  // With tls set: MAIL before STARTTLS is refused with 530 5.7.0 (RFC 3207 4).
  bool require_tls = false;
  // Clients offered XFORWARD (the MTAs in front of us whose word on their
  // own client is believed); null: nobody. Others get 550 5.7.0.
  std::function<bool(const asio::ip::address&)> xforward_allowed{};
};

using HandlerFactory = std::function<std::unique_ptr<Handler>()>;

class Server {
 public:
  Server(asio::any_io_executor executor, ServerOptions options, HandlerFactory factory);
  ~Server();  // closes the listener; running sessions finish on their own
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts accepting (port 0 picks a free port); returns
  // the bound endpoint.
  Result<asio::ip::tcp::endpoint, std::error_code> listen(const asio::ip::tcp::endpoint& where);
  // Graceful shutdown: the listener closes; each open session answers its
  // next command with 421 4.3.2 and closes.
  void shutdown();
  std::size_t session_count() const;
  ServerCounters counters() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// File descriptors. Each session holds one socket (prevent's also hold one
// to the next hop), so the listeners of a process need about
// sum(max_connections) * fds_per_session + a margin for listeners, logs,
// the queue and databases.
struct FdLimit {
  std::uint64_t wanted = 0;       // what the caller asked for
  std::uint64_t soft_before = 0;  // RLIMIT_NOFILE soft limit found
  std::uint64_t soft = 0;         // soft limit now
  std::uint64_t hard = 0;         // hard limit (RLIM_INFINITY as UINT64_MAX)
  bool sufficient = false;        // soft >= wanted: the configuration can be honoured
  std::string error;              // getrlimit/setrlimit failure, if any
};
constexpr std::uint64_t kFdMargin = 64;
std::uint64_t fds_needed(std::uint64_t total_max_connections, std::uint64_t fds_per_session = 1,
                         std::uint64_t margin = kFdMargin);
// Raises the soft RLIMIT_NOFILE to the hard limit (never lowers it) and
// reports whether `wanted` descriptors are now allowed, so the caller can
// refuse a configuration it cannot serve. For start-up.
FdLimit raise_fd_limit(std::uint64_t wanted);

// The addresses of `host` now, blocking: an IP literal as it is, a name
// through the system resolver (every address it gives, in its order). For
// start-up (listen addresses, DLP hosts); never "no address" on success.
Result<std::vector<asio::ip::address>, std::string> resolve_at_start(const std::string& host,
                                                                     std::uint16_t port);

// Loads a PEM certificate chain and private key into a server TLS context.
Result<std::shared_ptr<asio::ssl::context>, std::string> make_server_tls_context(
    const std::string& certificate_chain_file, const std::string& private_key_file);

// The default handler: accepts everything and records complete messages in
// a MemoryStore shared by all sessions (thread-safe). For tests and benchmarks.
struct StoredMessage {
  std::string session_id;
  std::string helo_name;
  std::string sender;
  std::vector<std::string> recipients;
  MailParams params;
  bool tls = false;
  std::uint64_t size = 0;
  std::string content;  // empty when the store does not keep content
};

class MemoryStore {
 public:
  explicit MemoryStore(bool keep_content = true) : keep_content_(keep_content) {}
  bool keep_content() const { return keep_content_; }
  void add(StoredMessage message);
  void count_abort();
  std::vector<StoredMessage> messages() const;
  std::size_t message_count() const;
  std::size_t abort_count() const;

 private:
  const bool keep_content_;
  mutable std::mutex mutex_;
  std::vector<StoredMessage> messages_;
  std::size_t count_ = 0;
  std::size_t aborts_ = 0;
};

HandlerFactory memory_handler_factory(std::shared_ptr<MemoryStore> store);

}  // namespace cordon::smtp
