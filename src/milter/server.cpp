// The milter listener and connection loop (see server.hpp).
#include "milter/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>

namespace cordon::milter {

using Protocol = asio::generic::stream_protocol;
using Acceptor = asio::basic_socket_acceptor<Protocol>;

std::string ListenAddress::to_string() const {
  if (unix_socket) return "unix:" + path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace {

// One MTA connection: the socket, its idle watchdog, and the session.
struct Connection {
  Connection(Protocol::socket s, const ServerOptions& options)
      : socket(std::move(s)), watchdog(socket.get_executor()), session(options.session) {}
  Protocol::socket socket;
  asio::steady_timer watchdog;
  Session session;
  bool deciding = false;
  bool timed_out = false;
  void close() {
    std::error_code ignored;
    socket.close(ignored);
    watchdog.cancel();
  }
};

ServerEvent to_server_event(Event e) {
  switch (e) {
    case Event::unknown_command:
      return ServerEvent::unknown_command;
    case Event::malformed_payload:
      return ServerEvent::malformed_payload;
    case Event::aborted:
      return ServerEvent::aborted;
    case Event::disallowed_change:
      return ServerEvent::disallowed_change;
  }
  return ServerEvent::malformed_payload;
}

}  // namespace

std::string_view to_string(ServerEvent event) {
  switch (event) {
    case ServerEvent::connection:
      return "connection";
    case ServerEvent::message:
      return "message";
    case ServerEvent::frame_oversized:
      return "frame_oversized";
    case ServerEvent::frame_empty:
      return "frame_empty";
    case ServerEvent::unknown_command:
      return "unknown_command";
    case ServerEvent::malformed_payload:
      return "malformed_payload";
    case ServerEvent::aborted:
      return "aborted";
    case ServerEvent::closed_mid_message:
      return "closed_mid_message";
    case ServerEvent::disallowed_change:
      return "disallowed_change";
    case ServerEvent::timeout:
      return "timeout";
  }
  return "unknown";
}

struct Server::State {
  asio::any_io_executor executor;
  ServerOptions options;
  ServerHooks hooks;
  std::optional<Acceptor> acceptor;
  std::string unix_path;  // removed when the server goes
  bool stopping = false;
  mutable std::mutex mutex;
  std::list<std::weak_ptr<Connection>> connections;

  void emit(ServerEvent e) const {
    if (hooks.on_event) hooks.on_event(e);
  }

  void arm(const std::shared_ptr<Connection>& c) {
    c->watchdog.expires_after(options.idle_timeout);
    c->watchdog.async_wait([weak = std::weak_ptr<Connection>(c)](std::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->deciding) return;
      self->timed_out = true;
      std::error_code ignored;
      self->socket.close(ignored);
    });
  }
};

namespace {

// Waits for the decision, telling the MTA every progress_interval that the
// filter is still at work. Every write happens here, one after the other.
asio::awaitable<std::optional<Decision>> decide_with_progress(
    std::shared_ptr<Server::State> state, std::shared_ptr<Connection> c,
    std::shared_ptr<const Message> message) {
  struct Pending {
    explicit Pending(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<Decision> decision;
  };
  auto pending = std::make_shared<Pending>(c->socket.get_executor());
  asio::co_spawn(c->socket.get_executor(), state->hooks.decide(std::move(message)),
                 [pending](std::exception_ptr error, Decision decision) {
                   if (error)
                     pending->decision =
                         Decision::reply("451 4.3.0 Inspection failed, try again later");
                   else
                     pending->decision = std::move(decision);
                   pending->timer.cancel();
                 });
  const std::string progress = Session::progress();
  while (!pending->decision) {
    pending->timer.expires_after(state->options.progress_interval);
    std::error_code ec;
    co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (pending->decision) break;
    co_await asio::async_write(c->socket, asio::buffer(progress),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // The MTA went away; the decision still completes (and its incident
      // is recorded) but nobody hears it.
      while (!pending->decision) {
        pending->timer.expires_after(std::chrono::seconds(1));
        co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      co_return std::nullopt;
    }
  }
  co_return std::move(pending->decision);
}

asio::awaitable<void> serve(std::shared_ptr<Server::State> state, std::shared_ptr<Connection> c) {
  const std::string& name = state->options.log_name;
  FrameDecoder decoder(state->options.max_frame_bytes);
  std::array<char, 64 * 1024> buffer;
  state->emit(ServerEvent::connection);
  bool open = true;
  while (open) {
    state->arm(c);
    std::error_code ec;
    std::size_t n = co_await c->socket.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (c->timed_out) {
        spdlog::warn(
            "{}: no command from the MTA in {} s; connection closed", name,
            std::chrono::duration_cast<std::chrono::seconds>(state->options.idle_timeout).count());
        state->emit(ServerEvent::timeout);
      }
      if (c->session.in_message()) {
        spdlog::warn("{}: the MTA closed the connection during a message", name);
        state->emit(ServerEvent::closed_mid_message);
      }
      break;
    }
    decoder.feed(std::string_view(buffer.data(), n));
    while (open) {
      auto frame = decoder.next();
      if (!frame) {
        if (frame.error() == FrameError::oversized) {
          spdlog::warn(
              "{}: the MTA sent a frame of {} bytes, over milter.max_frame_bytes ({}); "
              "connection closed (the MTA applies its milter_default_action)",
              name, decoder.refused_length(), state->options.max_frame_bytes);
          state->emit(ServerEvent::frame_oversized);
        } else {
          spdlog::warn("{}: {} from the MTA; connection closed", name, describe(frame.error()));
          state->emit(ServerEvent::frame_empty);
        }
        open = false;
        break;
      }
      if (!*frame) break;
      Step step = c->session.on_frame(**frame);
      for (Event e : c->session.take_events()) state->emit(to_server_event(e));
      if (!step.warning.empty()) spdlog::warn("{}: {}", name, step.warning);
      if (!step.output.empty()) {
        co_await asio::async_write(c->socket, asio::buffer(step.output),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          open = false;
          break;
        }
      }
      if (step.close) {
        open = false;
        break;
      }
      if (!step.message) continue;
      c->deciding = true;
      c->watchdog.cancel();
      auto decision = co_await decide_with_progress(state, c, std::move(step.message));
      c->deciding = false;
      state->emit(ServerEvent::message);
      if (!decision) {
        spdlog::warn("{}: the MTA closed the connection before the end of message was answered",
                     name);
        state->emit(ServerEvent::closed_mid_message);
        open = false;
        break;
      }
      std::string reply = c->session.finish(*decision);
      for (Event e : c->session.take_events()) state->emit(to_server_event(e));
      if (!c->session.finish_warning().empty())
        spdlog::warn("{}: {}", name, c->session.finish_warning());
      co_await asio::async_write(c->socket, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec || state->stopping) open = false;
    }
  }
  c->close();
}

asio::awaitable<void> accept_loop(std::shared_ptr<Server::State> state) {
  for (;;) {
    std::error_code ec;
    Protocol::socket socket(state->executor);
    co_await state->acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !state->acceptor->is_open()) co_return;
    if (ec) {
      spdlog::warn("{}: accept failed: {}", state->options.log_name, ec.message());
      asio::steady_timer pause(state->executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto c = std::make_shared<Connection>(std::move(socket), state->options);
    {
      std::lock_guard lock(state->mutex);
      state->connections.remove_if([](const auto& w) { return w.expired(); });
      state->connections.push_back(c);
    }
    asio::co_spawn(state->executor, serve(state, c), asio::detached);
  }
}

}  // namespace

Server::Server(asio::any_io_executor executor, ServerOptions options, ServerHooks hooks)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->options = std::move(options);
  state_->hooks = std::move(hooks);
  if (state_->options.idle_timeout.count() <= 0)
    state_->options.idle_timeout = std::chrono::hours(24);
  if (state_->options.progress_interval.count() <= 0)
    state_->options.progress_interval = std::chrono::seconds(10);
}

Server::~Server() {
  if (state_->acceptor) {
    std::error_code ignored;
    state_->acceptor->close(ignored);
  }
  if (!state_->unix_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(state_->unix_path, ignored);
  }
}

Result<ListenAddress, std::string> Server::listen(const ListenAddress& where) {
  std::error_code ec;
  Protocol::endpoint endpoint;
  ListenAddress bound = where;
  if (where.unix_socket) {
    // A socket file left by a previous run would make bind fail.
    std::filesystem::remove(where.path, ec);
    endpoint = Protocol::endpoint(asio::local::stream_protocol::endpoint(where.path));
  } else {
    auto address = asio::ip::make_address(where.host, ec);
    if (ec) return fail("not an IP address: " + where.host);
    endpoint = Protocol::endpoint(
        asio::ip::tcp::endpoint(address, static_cast<unsigned short>(where.port)));
  }
  Acceptor acceptor(state_->executor);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && !where.unix_socket) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec.message());
  if (!where.unix_socket) {
    auto local = acceptor.local_endpoint(ec);
    if (!ec) {
      asio::ip::tcp::endpoint tcp;
      std::memcpy(tcp.data(), local.data(), std::min<std::size_t>(local.size(), tcp.capacity()));
      bound.port = tcp.port();
    }
  } else {
    state_->unix_path = where.path;
  }
  state_->acceptor.emplace(std::move(acceptor));
  asio::co_spawn(state_->executor, accept_loop(state_), asio::detached);
  return bound;
}

void Server::shutdown() {
  asio::post(state_->executor, [state = state_] {
    state->stopping = true;
    if (state->acceptor) {
      std::error_code ignored;
      state->acceptor->close(ignored);
    }
    std::lock_guard lock(state->mutex);
    for (auto& weak : state->connections)
      if (auto c = weak.lock(); c && !c->deciding) c->close();
  });
}

std::size_t Server::connection_count() const {
  std::lock_guard lock(state_->mutex);
  std::size_t n = 0;
  for (auto& weak : state_->connections)
    if (auto c = weak.lock(); c && c->socket.is_open()) ++n;
  return n;
}

}  // namespace cordon::milter
