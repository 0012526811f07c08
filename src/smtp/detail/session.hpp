// Server-side SMTP session: the protocol state machine for one connection.
// Internal to the smtp component; Server (server.hpp) creates one per
// accepted connection and runs it as a coroutine.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "smtp/handler.hpp"
#include "smtp/server.hpp"

namespace cordon::smtp {

// What sessions share with their server; outlives the Server object while
// sessions still run.
struct AtomicCounters {
  using Counter = std::atomic<std::uint64_t>;
  Counter accepted{0}, refused_busy{0}, refused_client_limit{0}, refused_client_rate{0},
      session_time_exceeded{0}, data_time_exceeded{0}, timeouts{0}, too_many_errors{0},
      recipients_over_limit{0}, accept_failures{0}, accept_backoffs{0};
  ServerCounters snapshot() const;
};

struct ServerShared {
  ServerOptions options;
  AtomicCounters counters;
  HandlerFactory factory;
  std::atomic<bool> shutting_down{false};
  std::atomic<std::size_t> sessions{0};
  std::atomic<std::uint64_t> next_session{0};
  std::string id_prefix;
};

// Runs one session to completion and then decrements `sessions` (which the
// acceptor incremented); never throws.
asio::awaitable<void> run_session(std::shared_ptr<ServerShared> shared,
                                  asio::ip::tcp::socket socket);

}  // namespace cordon::smtp
