// idle_sessions_bench: an SMTP server on cordon's session (memory handler,
// content discarded) sized for SESSIONS concurrent sessions from one
// address: per-client limits off, RLIMIT_NOFILE raised as the runtime
// would. Prints "port N" once listening and runs until SIGINT/SIGTERM.
// Usage: idle_sessions_bench SESSIONS [PORT]
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "smtp/server.hpp"

int main(int argc, char** argv) {
  const std::size_t sessions = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  unsigned short port = argc > 2 ? static_cast<unsigned short>(std::atoi(argv[2])) : 0;
  cordon::smtp::ServerOptions options;
  options.hostname = "bench.localhost";
  options.limits.max_connections = sessions + 16;
  options.limits.max_connections_per_client = 0;
  options.limits.max_connection_rate_per_client = 0;
  auto fds = cordon::smtp::raise_fd_limit(cordon::smtp::fds_needed(options.limits.max_connections));
  if (!fds.sufficient) {
    std::fprintf(stderr, "RLIMIT_NOFILE %llu (hard %llu) is below the %llu descriptors needed\n",
                 static_cast<unsigned long long>(fds.soft),
                 static_cast<unsigned long long>(fds.hard),
                 static_cast<unsigned long long>(fds.wanted));
    return 2;
  }
  asio::io_context io(1);
  auto store = std::make_shared<cordon::smtp::MemoryStore>(/*keep_content=*/false);
  cordon::smtp::Server server(io.get_executor(), options,
                              cordon::smtp::memory_handler_factory(store));
  auto bound = server.listen({asio::ip::make_address("127.0.0.1"), port});
  if (!bound) {
    std::fprintf(stderr, "listen failed: %s\n", bound.error().message().c_str());
    return 2;
  }
  std::printf("port %u\n", static_cast<unsigned>(bound->port()));
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) {
    server.shutdown();
    io.stop();
  });
  io.run();
  std::printf("messages %zu\n", store->message_count());
  return 0;
}
