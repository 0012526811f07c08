// Client sessions kept open between deliveries to the same server (as
// Postfix's connection cache does): after a message was accepted, the
// session is parked instead of QUIT, and the next delivery with the same
// server and client options reuses it (MAIL straight away) instead of a TCP
// connect, a greeting and EHLO. A parked session is closed after `idle`
// without use and after `max_uses` messages; a reused session that turns
// out to be closed by the server (no reply at all to MAIL) is dropped and
// the delivery goes over a new one, so reuse never changes an outcome.
// deliver() runs whole deliveries; checkout()/checkin() lend a parked
// session to a caller that drives the conversation itself (the inline relay
// mirrors its client's commands one by one), under the same limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "smtp/client.hpp"

namespace cordon::smtp {

struct SessionCacheOptions {
  std::chrono::milliseconds idle{std::chrono::seconds(2)};
  std::size_t max_uses = 100;       // messages per session (1: no reuse)
  std::size_t max_per_server = 64;  // parked sessions per server and options
};

struct SessionCacheCounters {
  std::uint64_t reused = 0;  // deliveries over a parked session
  std::uint64_t opened = 0;  // deliveries over a new session
  std::uint64_t stale = 0;   // parked sessions found closed by the server
};

class SessionCache : public std::enable_shared_from_this<SessionCache> {
 public:
  static std::shared_ptr<SessionCache> create(asio::any_io_executor executor,
                                              SessionCacheOptions options = {});
  ~SessionCache();

  // deliver_to_host() through the cache. Arguments by reference: see
  // deliver_to_host.
  asio::awaitable<DeliveryResult> deliver(const std::string& host, std::uint16_t port,
                                          const ClientOptions& options,
                                          const DeliveryEnvelope& envelope,
                                          std::string_view message);

  // Step-wise use. A session parked for `server` with the same options,
  // greeted and between transactions (the most recently parked first), or
  // null when there is none; `uses` is set to the messages it carried.
  // Nothing is sent: the caller's first command tells whether the server
  // still holds it (see SessionUse::stale).
  std::unique_ptr<ClientSession> checkout(const asio::ip::tcp::endpoint& server,
                                          const ClientOptions& options, std::size_t& uses);
  // Parks `session` (moved from on success) after `uses` messages. The
  // caller hands back only a session past EHLO with no transaction open
  // (after a final reply to DATA, or RSET accepted). False when it is not
  // kept (max_uses reached, or enough sessions to that server parked): the
  // caller QUITs it then.
  bool checkin(const asio::ip::tcp::endpoint& server, const ClientOptions& options,
               std::unique_ptr<ClientSession>& session, std::size_t uses);
  // What a step-wise caller's transaction went over, for counters().
  enum class SessionUse { reused, opened, stale };
  void record(SessionUse use);

  // Closes every parked session (shutdown, or the server's settings changed).
  void clear();
  std::size_t parked() const;
  SessionCacheCounters counters() const;

 private:
  struct Parked {
    std::string key;
    std::unique_ptr<ClientSession> session;
    std::size_t uses = 0;
    std::chrono::steady_clock::time_point since;
  };
  SessionCache(asio::any_io_executor executor, SessionCacheOptions options);
  std::unique_ptr<ClientSession> take(const std::string& key, std::size_t& uses);
  // Parks `session` (moved from) unless enough sessions to that server are parked.
  bool park(std::string key, std::unique_ptr<ClientSession>& session, std::size_t uses);
  void sweep();
  void arm();

  asio::any_io_executor executor_;
  SessionCacheOptions options_;
  mutable std::mutex mutex_;
  std::vector<Parked> parked_;  // few: a linear search is cheapest
  SessionCacheCounters counters_;
  asio::steady_timer timer_;
  bool armed_ = false;
};

}  // namespace cordon::smtp
