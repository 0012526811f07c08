// smtp_sink_bench: an SMTP server on cordon's session with the memory
// handler in counting mode (content discarded), for throughput comparisons
// with Postfix's smtp-sink. Prints "port N" once listening, runs until
// SIGINT/SIGTERM, then prints the number of messages received.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "smtp/server.hpp"

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  asio::io_context io(1);
  auto store = std::make_shared<cordon::smtp::MemoryStore>(/*keep_content=*/false);
  cordon::smtp::ServerOptions options;
  options.hostname = "bench.localhost";
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
