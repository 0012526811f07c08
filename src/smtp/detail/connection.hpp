// A TCP connection that can be upgraded to TLS in place (STARTTLS), with one
// deadline at a time: when it passes, the pending operation is cancelled and
// the connection is marked timed out. Internal to the smtp
// component; shared by server and client sessions. All operations and the
// deadline handler run on the socket's executor (a strand per connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>

namespace cordon::smtp {

// Input bytes not yet consumed. Storage is allocated only while bytes wait
// (an idle session holds none), grows by doubling, and is never
// zero-filled: a read writes into prepare()d space and commit()s what came.
class ReadBuffer {
 public:
  std::string_view view() const { return {data_.get() + start_, end_ - start_}; }
  std::size_t size() const { return end_ - start_; }
  bool empty() const { return start_ == end_; }
  std::size_t capacity() const { return capacity_; }
  // Drops the first n bytes; an emptied buffer gives its storage back.
  void consume(std::size_t n);
  void clear();
  // At least n writable bytes after the data (moves the data to the front or
  // grows as needed).
  asio::mutable_buffer prepare(std::size_t n);
  void commit(std::size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0, start_ = 0, end_ = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(asio::ip::tcp::socket socket);
  ~Connection();

  asio::ip::tcp::socket& socket() { return socket_; }

  // Arms the deadline `timeout` from now, replacing any earlier one.
  void expires_after(std::chrono::milliseconds timeout);
  void cancel_deadline();
  bool timed_out() const { return timed_out_; }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, std::error_code& ec);
  // Waits for input and appends what is there (at most `max` octets) to
  // `buffer`. Plaintext waits for readiness with no buffer at all and then
  // reads what the kernel holds, so waiting costs no memory.
  asio::awaitable<std::size_t> read_into(ReadBuffer& buffer, std::size_t max, std::error_code& ec);
  asio::awaitable<void> write(std::string_view data, std::error_code& ec);
  asio::awaitable<void> handshake(asio::ssl::context& context,
                                  asio::ssl::stream_base::handshake_type type,
                                  const std::string& server_name, std::error_code& ec);

  bool tls() const { return tls_ != nullptr; }
  std::string tls_protocol() const;
  std::string tls_cipher() const;
  void close();

 private:
  asio::ip::tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  asio::steady_timer timer_;
  std::uint64_t deadline_generation_ = 0;
  bool timed_out_ = false;
};

}  // namespace cordon::smtp
