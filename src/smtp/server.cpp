// The listener: accepts connections, enforces max_connections, and runs each
// session on its own strand.
#include "smtp/server.hpp"

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "smtp/session.hpp"

namespace cordon::smtp {

struct Server::State {
  asio::any_io_executor executor;
  std::shared_ptr<ServerShared> shared;
  std::shared_ptr<asio::ip::tcp::acceptor> acceptor;
};

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

asio::awaitable<void> refuse_busy(asio::ip::tcp::socket socket, std::string hostname) {
  std::string reply =
      Reply::make(421, "4.3.2", hostname + " Too many connections, try again later").wire();
  // Best effort and short: the socket is closed when this coroutine ends.
  co_await asio::async_write(socket, asio::buffer(reply), use_tuple);
}

asio::awaitable<void> accept_loop(std::shared_ptr<ServerShared> shared,
                                  std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  while (acceptor->is_open()) {
    auto [ec, socket] =
        co_await acceptor->async_accept(asio::make_strand(acceptor->get_executor()), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      spdlog::warn("smtp accept failed: {}", ec.message());
      continue;
    }
    auto executor = socket.get_executor();
    if (shared->sessions.load() >= shared->options.limits.max_connections) {
      asio::co_spawn(executor, refuse_busy(std::move(socket), shared->options.hostname),
                     asio::detached);
      continue;
    }
    ++shared->sessions;
    asio::co_spawn(executor, run_session(shared, std::move(socket)), asio::detached);
  }
}

}  // namespace

Server::Server(asio::any_io_executor executor, ServerOptions options, HandlerFactory factory)
    : state_(std::make_shared<State>()) {
  state_->executor = executor;
  state_->shared = std::make_shared<ServerShared>();
  state_->shared->options = std::move(options);
  state_->shared->factory = std::move(factory);
  std::random_device random;
  state_->shared->id_prefix = fmt::format("{:08X}.", random());
}

Server::~Server() {
  shutdown();
}

Result<asio::ip::tcp::endpoint, std::error_code> Server::listen(
    const asio::ip::tcp::endpoint& where) {
  auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(state_->executor);
  std::error_code ec;
  acceptor->open(where.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(where, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  auto bound = acceptor->local_endpoint(ec);
  if (ec) return fail(ec);
  state_->acceptor = acceptor;
  asio::co_spawn(state_->executor, accept_loop(state_->shared, acceptor), asio::detached);
  return bound;
}

void Server::shutdown() {
  state_->shared->shutting_down = true;
  if (auto acceptor = state_->acceptor) {
    // Closing must happen on the acceptor's executor, where accept runs.
    asio::post(state_->executor, [acceptor] {
      std::error_code ignored;
      acceptor->close(ignored);
    });
    state_->acceptor.reset();
  }
}

std::size_t Server::session_count() const {
  return state_->shared->sessions.load();
}

Result<std::shared_ptr<asio::ssl::context>, std::string> make_server_tls_context(
    const std::string& certificate_chain_file, const std::string& private_key_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  std::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1,
                       ec);
  if (!ec) context->use_certificate_chain_file(certificate_chain_file, ec);
  if (ec) return fail("cannot load certificate " + certificate_chain_file + ": " + ec.message());
  context->use_private_key_file(private_key_file, asio::ssl::context::pem, ec);
  if (ec) return fail("cannot load private key " + private_key_file + ": " + ec.message());
  return context;
}

}  // namespace cordon::smtp
