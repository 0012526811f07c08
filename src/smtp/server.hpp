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

// Every limit has one enforcement point in the session and one reply.
struct ServerLimits {
  std::size_t max_command_line = 512;          // octets incl. CRLF -> 501 5.5.2
  std::size_t max_data_line = 64 * 1024;       // octets incl. CRLF -> 550 5.6.0 after DATA
  std::size_t max_recipients = 1000;           // per message -> 452 4.5.3
  std::uint64_t max_message_size = 50u << 20;  // octets, advertised as SIZE -> 552 5.3.4
  std::size_t max_errors = 20;                 // client errors per session -> 421 4.7.0, close
  std::size_t max_connections = 200;           // concurrent sessions -> 421 4.3.2, close
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};   // waiting for a command
  std::chrono::milliseconds data_timeout{std::chrono::minutes(3)};   // waiting for DATA input
  std::chrono::milliseconds tls_timeout{std::chrono::minutes(1)};    // TLS handshake
  std::chrono::milliseconds write_timeout{std::chrono::minutes(1)};  // sending one reply
};

struct ServerOptions {
  std::string hostname = "localhost";  // greeting and EHLO name
  ServerLimits limits;
  std::shared_ptr<asio::ssl::context> tls;  // STARTTLS offered only when set
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

 private:
  struct State;
  std::shared_ptr<State> state_;
};

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
