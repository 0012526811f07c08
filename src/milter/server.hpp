// The milter listener: accepts MTA connections on TCP or a unix socket and
// runs one Session (session.hpp) per connection on standalone Asio. The
// end-of-message decision is the caller's: an awaitable it returns, during
// which the MTA is kept waiting with SMFIR_PROGRESS.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "milter/session.hpp"
#include "util/result.hpp"

namespace cordon::milter {

// Where to listen: "host:port" (TCP) or "unix:/path".
struct ListenAddress {
  bool unix_socket = false;
  std::string host;  // TCP: IP address or name
  unsigned port = 0;
  std::string path;  // unix socket
  std::string to_string() const;
};

// What the server reports, for the caller's log and metrics.
enum class ServerEvent {
  connection,          // an MTA connected
  message,             // a message reached its end and was decided
  frame_oversized,     // a frame over max_frame_bytes: connection closed
  frame_empty,         // a zero-length frame: connection closed
  unknown_command,     // not answered; the message under way tempfails
  malformed_payload,   // a command whose data does not parse
  aborted,             // SMFIC_ABORT during a message
  closed_mid_message,  // the MTA went away during a message
  disallowed_change,   // a decision needed an action the MTA did not allow
  timeout,             // no command within idle_timeout: connection closed
};

// The event's name as logs and metric labels spell it ("frame_oversized").
std::string_view to_string(ServerEvent event);

struct ServerOptions {
  SessionOptions session;
  // A frame's length limit (command byte and data). Postfix and Sendmail
  // send body chunks of at most 64 KiB; anything much longer is a broken
  // or hostile peer.
  std::size_t max_frame_bytes = 1u << 20;
  // Between two commands of the MTA (Postfix keeps the connection for its
  // whole SMTP session, so this is long).
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(30)};
  // How often the MTA hears SMFIR_PROGRESS while a decision takes time
  // (Postfix's milter_content_timeout is 300 s by default).
  std::chrono::milliseconds progress_interval{std::chrono::seconds(10)};
  std::string log_name = "milter";
};

using Decide = std::function<asio::awaitable<Decision>(std::shared_ptr<const Message>)>;

struct ServerHooks {
  Decide decide;                              // required
  std::function<void(ServerEvent)> on_event;  // may be empty
};

class Server {
 public:
  Server(asio::any_io_executor executor, ServerOptions options, ServerHooks hooks);
  ~Server();  // closes the listener; running connections finish on their own
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting (TCP port 0 picks a free port; a stale unix
  // socket file is replaced). Returns the bound address.
  Result<ListenAddress, std::string> listen(const ListenAddress& where);
  // Stops accepting; open connections end when the MTA closes them or at
  // their next idle timeout. Messages being decided are answered first.
  void shutdown();
  std::size_t connection_count() const;

  struct State;  // server.cpp's, shared with the connections it runs

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cordon::milter
