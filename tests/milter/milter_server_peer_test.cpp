// Peer tests of the milter listener over real loopback and unix sockets:
// SMFIR_PROGRESS while a decision takes time, a decision that fails is a
// tempfail (never an accept), an oversized frame closes the connection, and
// a unix socket listener. The decision is the test's own coroutine.
#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "milter/server.hpp"

namespace cordon::milter {
namespace {

using namespace std::chrono_literals;

std::string z(std::string_view s) {
  return std::string(s) + '\0';
}

// A message as Postfix sends it after a version 6 negotiation.
std::string message_frames(std::string_view body) {
  return encode(cmd::mail, z("<alice@corp.test>")) + encode(cmd::rcpt, z("<bob@ext.test>")) +
         encode(cmd::header, z("Subject") + z(" hi")) + encode(cmd::eoh) + encode(cmd::body, body) +
         encode(cmd::body_eob);
}

class ServerFixture {
 public:
  ServerFixture(Decide decide, ServerOptions options = {}, std::string unix_path = "") {
    options.progress_interval = std::max(options.progress_interval, std::chrono::milliseconds(1));
    ServerHooks hooks;
    hooks.decide = std::move(decide);
    hooks.on_event = [this](ServerEvent e) {
      if (e == ServerEvent::frame_oversized) ++oversized;
    };
    server_ = std::make_unique<Server>(io_.get_executor(), options, std::move(hooks));
    ListenAddress where;
    if (unix_path.empty()) {
      where.host = "127.0.0.1";
    } else {
      where.unix_socket = true;
      where.path = unix_path;
    }
    auto bound = server_->listen(where);
    EXPECT_TRUE(bound.has_value()) << (bound ? "" : bound.error());
    if (bound) address = *bound;
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerFixture() {
    server_->shutdown();
    io_.stop();
    thread_.join();
  }
  ListenAddress address;
  std::atomic<int> oversized{0};

 private:
  asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// A blocking MTA side over any stream socket.
template <class Socket>
struct Mta {
  explicit Mta(Socket s) : socket(std::move(s)) {}
  Socket socket;
  void send(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  // The next frame, or nullopt when the filter closed the connection.
  std::optional<Frame> next() {
    char head[4];
    std::error_code ec;
    asio::read(socket, asio::buffer(head), ec);
    if (ec) return std::nullopt;
    std::uint32_t n = (std::uint32_t(std::uint8_t(head[0])) << 24) |
                      (std::uint32_t(std::uint8_t(head[1])) << 16) |
                      (std::uint32_t(std::uint8_t(head[2])) << 8) | std::uint8_t(head[3]);
    std::string body(n, '\0');
    asio::read(socket, asio::buffer(body), ec);
    if (ec || n == 0) return std::nullopt;
    return Frame{body[0], body.substr(1)};
  }
  void negotiate() {
    send(encode_optneg({6, 0x1ff, 0x1fffff}));
    auto f = next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, cmd::optneg);
  }
};

Mta<asio::ip::tcp::socket> connect_tcp(asio::io_context& io, const ListenAddress& a) {
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address(a.host), static_cast<unsigned short>(a.port)});
  return Mta<asio::ip::tcp::socket>(std::move(s));
}

TEST(MilterServerPeer, ProgressIsSentWhileTheDecisionTakesTime) {
  ServerOptions options;
  options.progress_interval = 100ms;
  ServerFixture f(
      [](std::shared_ptr<const Message> m) -> asio::awaitable<Decision> {
        asio::steady_timer t(co_await asio::this_coro::executor, 450ms);
        co_await t.async_wait(asio::use_awaitable);
        co_return m->content.find("card") != std::string::npos ? Decision::reply("550 5.7.0 no")
                                                               : Decision::accept();
      },
      options);
  asio::io_context io;
  auto mta = connect_tcp(io, f.address);
  mta.negotiate();
  mta.send(message_frames("card\r\n"));
  int progress = 0;
  std::optional<Frame> last;
  while ((last = mta.next()) && last->code == reply::progress) ++progress;
  ASSERT_TRUE(last);
  EXPECT_GE(progress, 2);
  EXPECT_EQ(last->code, reply::reply_code);
  EXPECT_EQ(last->data, z("550 5.7.0 no"));
  // The same connection carries the next message.
  mta.send(message_frames("lunch\r\n"));
  while ((last = mta.next()) && last->code == reply::progress) {
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->code, reply::accept);
}

TEST(MilterServerPeer, ADecisionThatFailsIsATempfail) {
  ServerFixture f([](std::shared_ptr<const Message>) -> asio::awaitable<Decision> {
    throw std::runtime_error("inspection broke");
    co_return Decision::accept();
  });
  asio::io_context io;
  auto mta = connect_tcp(io, f.address);
  mta.negotiate();
  mta.send(message_frames("x\r\n"));
  auto reply = mta.next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, reply::reply_code);
  EXPECT_EQ(reply->data.substr(0, 9), "451 4.3.0");
}

TEST(MilterServerPeer, AnOversizedFrameClosesTheConnection) {
  ServerOptions options;
  options.max_frame_bytes = 70000;
  ServerFixture f(
      [](std::shared_ptr<const Message>) -> asio::awaitable<Decision> {
        co_return Decision::accept();
      },
      options);
  asio::io_context io;
  auto mta = connect_tcp(io, f.address);
  mta.negotiate();
  mta.send(std::string("\x00\x01\x86\xa1", 4) + "B");  // 100001 bytes announced
  EXPECT_FALSE(mta.next());
  EXPECT_EQ(f.oversized.load(), 1);
}

TEST(MilterServerPeer, ListensOnAUnixSocket) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("cordon-milter-test-" + std::to_string(::getpid()) + ".sock");
  {
    ServerFixture f(
        [](std::shared_ptr<const Message>) -> asio::awaitable<Decision> {
          co_return Decision::accept();
        },
        {}, path.string());
    EXPECT_TRUE(f.address.unix_socket);
    asio::io_context io;
    asio::local::stream_protocol::socket s(io);
    s.connect(asio::local::stream_protocol::endpoint(path.string()));
    Mta<asio::local::stream_protocol::socket> mta(std::move(s));
    mta.negotiate();
    mta.send(message_frames("x\r\n"));
    auto reply = mta.next();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->code, reply::accept);
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "the socket file goes with the server";
}

}  // namespace
}  // namespace cordon::milter
