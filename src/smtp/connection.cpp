// Connection: plaintext/TLS I/O and the single-deadline watchdog.
#include "smtp/detail/connection.hpp"

#include <algorithm>
#include <cstring>

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

asio::awaitable<std::size_t> Connection::read_into(ReadBuffer& buffer, std::size_t max,
                                                   std::error_code& ec) {
  constexpr std::size_t kMinRead = 512;
  constexpr std::size_t kTlsRead = 4096;  // records are decrypted into it piecewise
  if (tls_) {
    std::size_t n = co_await read_some(buffer.prepare(std::min(kTlsRead, max)), ec);
    if (!ec) buffer.commit(n);
    co_return n;
  }
  if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
  if (ec) co_return 0;
  // Most reads are one command: a first read of at most kFirstRead needs no
  // FIONREAD. Only when it fills that space is the kernel asked how much
  // more waits, and that is read at once (a DATA phase).
  constexpr std::size_t kFirstRead = 4096;
  const std::size_t limit = std::max(max, kMinRead);
  while (true) {
    std::tie(ec) = co_await socket_.async_wait(asio::socket_base::wait_read, use_tuple);
    if (ec) co_return 0;
    const std::size_t first = std::min(limit, kFirstRead);
    std::size_t n = socket_.read_some(buffer.prepare(first), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;  // spurious
    if (ec) co_return 0;
    buffer.commit(n);
    if (n == first && n < limit) {
      std::error_code more_ec;
      const std::size_t available = socket_.available(more_ec);
      if (!more_ec && available > 0) {
        std::size_t more =
            socket_.read_some(buffer.prepare(std::min(available, limit - n)), more_ec);
        if (!more_ec) {
          buffer.commit(more);
          n += more;
        }
        // An error here is seen by the next read; what was read is kept.
      }
    }
    co_return n;
  }
}

void ReadBuffer::consume(std::size_t n) {
  start_ += std::min(n, size());
  if (start_ == end_) clear();
}

void ReadBuffer::clear() {
  data_.reset();
  capacity_ = start_ = end_ = 0;
}

asio::mutable_buffer ReadBuffer::prepare(std::size_t n) {
  if (capacity_ - end_ < n) {
    const std::size_t used = size();
    if (start_ > 0 && capacity_ - used >= n) {
      std::memmove(data_.get(), data_.get() + start_, used);
    } else {
      std::size_t grown = std::max(used + n, capacity_ * 2);
      std::unique_ptr<char[]> bigger(new char[grown]);  // default-initialised: no zero fill
      if (used > 0) std::memcpy(bigger.get(), data_.get() + start_, used);
      data_ = std::move(bigger);
      capacity_ = grown;
    }
    start_ = 0;
    end_ = used;
  }
  return asio::buffer(data_.get() + end_, n);
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
