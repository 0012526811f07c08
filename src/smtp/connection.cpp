// Connection: plaintext/TLS I/O and the single-deadline watchdog.
#include "smtp/connection.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace cordon::smtp {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}

Connection::Connection(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

Connection::~Connection() {
  close();
}

void Connection::expires_after(std::chrono::milliseconds timeout) {
  const std::uint64_t generation = ++deadline_generation_;
  timed_out_ = false;
  timer_.expires_after(timeout);
  // The handler holds only a weak reference: a connection that is gone, or a
  // deadline that was replaced, is left alone.
  timer_.async_wait([weak = weak_from_this(), generation](std::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || self->deadline_generation_ != generation) return;
    self->timed_out_ = true;
    // Cancel rather than close, so a server can still say 421 before closing.
    std::error_code ignored;
    self->socket_.cancel(ignored);
  });
}

void Connection::cancel_deadline() {
  ++deadline_generation_;
  timer_.cancel();
}

asio::awaitable<std::size_t> Connection::read_some(asio::mutable_buffer buffer,
                                                   std::error_code& ec) {
  std::size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await tls_->async_read_some(buffer, use_tuple);
  } else {
    std::tie(ec, n) = co_await socket_.async_read_some(buffer, use_tuple);
  }
  co_return n;
}

asio::awaitable<void> Connection::write(std::string_view data, std::error_code& ec) {
  std::size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await asio::async_write(*tls_, asio::buffer(data), use_tuple);
  } else {
    std::tie(ec, n) = co_await asio::async_write(socket_, asio::buffer(data), use_tuple);
  }
}

asio::awaitable<void> Connection::handshake(asio::ssl::context& context,
                                            asio::ssl::stream_base::handshake_type type,
                                            const std::string& server_name, std::error_code& ec) {
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, context);
  if (type == asio::ssl::stream_base::client && !server_name.empty()) {
    SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
    tls_->set_verify_callback(asio::ssl::host_name_verification(server_name));
  }
  std::tie(ec) = co_await tls_->async_handshake(type, use_tuple);
  if (ec) tls_.reset();
}

std::string Connection::tls_protocol() const {
  return tls_ ? SSL_get_version(tls_->native_handle()) : "";
}

std::string Connection::tls_cipher() const {
  return tls_ ? SSL_get_cipher_name(tls_->native_handle()) : "";
}

void Connection::close() {
  std::error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace cordon::smtp
