// The listener: accepts connections, enforces max_connections and the
// per-client limits (a small anvil: concurrent sessions and connection rate
// per client address), backs off when the process runs out of file
// descriptors, and runs each session on its own strand.
#include "smtp/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "smtp/detail/session.hpp"

namespace cordon::smtp {

struct Server::State {
  asio::any_io_executor executor;
  std::shared_ptr<ServerShared> shared;
  std::shared_ptr<asio::ip::tcp::acceptor> acceptor;
};

ServerCounters AtomicCounters::snapshot() const {
  ServerCounters c;
  c.accepted = accepted.load();
  c.refused_busy = refused_busy.load();
  c.refused_client_limit = refused_client_limit.load();
  c.refused_client_rate = refused_client_rate.load();
  c.session_time_exceeded = session_time_exceeded.load();
  c.data_time_exceeded = data_time_exceeded.load();
  c.timeouts = timeouts.load();
  c.too_many_errors = too_many_errors.load();
  c.recipients_over_limit = recipients_over_limit.load();
  c.accept_failures = accept_failures.load();
  c.accept_backoffs = accept_backoffs.load();
  return c;
}

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

// Pauses of the accept loop when descriptors or kernel memory run out: the
// pending connection stays in the listen backlog until something frees up.
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// At most one accept-failure log line per interval; the rest are counted.
constexpr std::chrono::seconds kAcceptLogInterval{10};

enum class Admission { admitted, exempt, too_many, too_fast };

// Per-client-address bookkeeping shared by the accept loop and the sessions
// (which release their slot from their own strands, hence the mutex).
class ClientTable {
 public:
  Admission admit(const asio::ip::address& address, const ServerLimits& limits) {
    if (limits.client_limit_exempt && limits.client_limit_exempt(address)) return Admission::exempt;
    const bool count_rate = limits.max_connection_rate_per_client > 0;
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    prune(now, limits.connection_rate_interval);
    Entry& e = entries_[address];
    if (count_rate) {
      // Fixed windows per client; refused attempts count, so a client that
      // keeps hammering stays refused until it pauses.
      if (e.attempts == 0 || now - e.window_start >= limits.connection_rate_interval) {
        e.window_start = now;
        e.attempts = 0;
      }
      ++e.attempts;
      if (e.attempts > limits.max_connection_rate_per_client) return Admission::too_fast;
    }
    if (limits.max_connections_per_client > 0 && e.active >= limits.max_connections_per_client)
      return Admission::too_many;
    ++e.active;
    return Admission::admitted;
  }

  void release(const asio::ip::address& address, bool keep_for_rate) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(address);
    if (it == entries_.end()) return;
    if (it->second.active > 0) --it->second.active;
    if (it->second.active == 0 && !keep_for_rate) entries_.erase(it);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::size_t active = 0;
    std::size_t attempts = 0;
    Clock::time_point window_start;
  };

  // Forgets idle clients whose rate window has passed, once per interval.
  void prune(Clock::time_point now, std::chrono::milliseconds interval) {
    if (now - last_prune_ < interval) return;
    last_prune_ = now;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.active == 0 && now - it->second.window_start >= interval) {
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }

  mutable std::mutex mutex_;
  std::unordered_map<asio::ip::address, Entry> entries_;
  Clock::time_point last_prune_{};
};

// Holds a client's slot for the life of its session.
class ClientSlot {
 public:
  ClientSlot(std::shared_ptr<ClientTable> table, asio::ip::address address, bool keep_for_rate)
      : table_(std::move(table)), address_(address), keep_for_rate_(keep_for_rate) {}
  ClientSlot(ClientSlot&& other) noexcept
      : table_(std::move(other.table_)),
        address_(other.address_),
        keep_for_rate_(other.keep_for_rate_) {}
  ClientSlot(const ClientSlot&) = delete;
  ClientSlot& operator=(const ClientSlot&) = delete;
  ClientSlot& operator=(ClientSlot&&) = delete;
  ~ClientSlot() {
    if (table_) table_->release(address_, keep_for_rate_);
  }

 private:
  std::shared_ptr<ClientTable> table_;
  asio::ip::address address_;
  bool keep_for_rate_;
};

// A failure log line at most once per interval, with how many were held back.
class RateLimitedLog {
 public:
  void warn(const std::string& text) {
    const auto now = Clock::now();
    if (logged_ && now - last_ < kAcceptLogInterval) {
      ++suppressed_;
      return;
    }
    if (suppressed_ > 0) {
      spdlog::warn("{} ({} similar messages suppressed)", text, suppressed_);
    } else {
      spdlog::warn("{}", text);
    }
    logged_ = true;
    last_ = now;
    suppressed_ = 0;
  }

 private:
  bool logged_ = false;
  Clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

// Errors that concern one connection only (it went away before accept):
// accept again at once.
bool per_connection_error(const std::error_code& ec) {
  return ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::interrupted || ec == asio::error::would_block ||
         ec == asio::error::try_again ||
         (ec.category() == asio::error::get_system_category() &&
          (ec.value() == EPROTO || ec.value() == EPERM));
}

asio::awaitable<void> refuse(asio::ip::tcp::socket socket, Reply reply) {
  std::string wire = reply.wire();
  // Best effort and short: the socket is closed when this coroutine ends.
  co_await asio::async_write(socket, asio::buffer(wire), use_tuple);
}

asio::awaitable<void> serve(std::shared_ptr<ServerShared> shared, asio::ip::tcp::socket socket,
                            std::optional<ClientSlot> slot) {
  co_await run_session(std::move(shared), std::move(socket));
  slot.reset();
}

asio::awaitable<void> accept_loop(std::shared_ptr<ServerShared> shared,
                                  std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  const ServerLimits& limits = shared->options.limits;
  const std::string& hostname = shared->options.hostname;
  auto clients = std::make_shared<ClientTable>();
  asio::steady_timer pause(acceptor->get_executor());
  std::chrono::milliseconds backoff{0};
  RateLimitedLog log;
  while (acceptor->is_open()) {
    auto [ec, socket] =
        co_await acceptor->async_accept(asio::make_strand(acceptor->get_executor()), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      ++shared->counters.accept_failures;
      if (per_connection_error(ec)) {
        log.warn(fmt::format("smtp accept failed: {}", ec.message()));
        continue;
      }
      // EMFILE, ENFILE, ENOBUFS, ENOMEM or worse: accepting again at once
      // would fail again at once (and spin); pause, doubling up to 1 s.
      ++shared->counters.accept_backoffs;
      backoff = backoff.count() == 0 ? kMinBackoff : std::min(backoff * 2, kMaxBackoff);
      log.warn(fmt::format("smtp accept failed: {}; pausing accepts for {} ms", ec.message(),
                           backoff.count()));
      pause.expires_after(backoff);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    auto executor = socket.get_executor();
    std::error_code peer_ec;
    const auto address = unmapped(socket.remote_endpoint(peer_ec).address());
    if (peer_ec) continue;  // gone already; closing the socket is all there is to do

    const Admission admission = clients->admit(address, limits);
    std::optional<Reply> refusal;
    if (admission == Admission::too_fast) {
      ++shared->counters.refused_client_rate;
      refusal = Reply::make(421, "4.7.0",
                            hostname +
                                " Too many connections from your address in a short time, "
                                "try again later");
    } else if (admission == Admission::too_many) {
      ++shared->counters.refused_client_limit;
      refusal = Reply::make(421, "4.7.0", hostname + " Too many connections from your address");
    } else if (shared->sessions.load() >= limits.max_connections) {
      ++shared->counters.refused_busy;
      refusal = Reply::make(421, "4.3.2", hostname + " Too many connections, try again later");
    }
    std::optional<ClientSlot> slot;
    if (admission == Admission::admitted)
      slot.emplace(clients, address, limits.max_connection_rate_per_client > 0);
    if (refusal) {
      slot.reset();  // a refused connection holds no slot
      asio::co_spawn(executor, refuse(std::move(socket), *refusal), asio::detached);
      continue;
    }
    ++shared->sessions;
    ++shared->counters.accepted;
    asio::co_spawn(executor, serve(shared, std::move(socket), std::move(slot)), asio::detached);
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

ServerCounters Server::counters() const {
  return state_->shared->counters.snapshot();
}

std::uint64_t fds_needed(std::uint64_t total_max_connections, std::uint64_t fds_per_session,
                         std::uint64_t margin) {
  return total_max_connections * fds_per_session + margin;
}

FdLimit raise_fd_limit(std::uint64_t wanted) {
  auto as_u64 = [](rlim_t v) {
    return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v);
  };
  FdLimit out;
  out.wanted = wanted;
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    return out;
  }
  out.soft_before = out.soft = as_u64(limit.rlim_cur);
  out.hard = as_u64(limit.rlim_max);
  // Up to the hard limit, not just to `wanted`: descriptors nobody counted
  // (outgoing sessions, parked ones, queue files, databases) then have the
  // whole allowance; the soft limit only exists for select(2), which cordon
  // does not use. An unlimited hard limit is not a valid soft one (the
  // kernel caps it at fs.nr_open): then kFdCeiling, or `wanted` if more.
  constexpr std::uint64_t kFdCeiling = 1 << 20;
  const std::uint64_t target =
      limit.rlim_max == RLIM_INFINITY ? std::max(wanted, kFdCeiling) : out.hard;
  if (out.soft < target) {
    struct rlimit raised = limit;
    raised.rlim_cur = static_cast<rlim_t>(target);
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0 && out.soft < wanted) {
      // Not even `wanted` fits, e.g. the hard limit is above fs.nr_open.
      raised.rlim_cur = static_cast<rlim_t>(wanted);
      if (out.hard < wanted) raised.rlim_cur = limit.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &raised) != 0)
        out.error = std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    }
    struct rlimit now {};
    if (::getrlimit(RLIMIT_NOFILE, &now) == 0) out.soft = as_u64(now.rlim_cur);
  }
  out.sufficient = out.soft >= wanted;
  return out;
}

Result<std::vector<asio::ip::address>, std::string> resolve_at_start(const std::string& host,
                                                                     std::uint16_t port) {
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return std::vector<asio::ip::address>{address};
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return fail("cannot resolve " + host + ": " + ec.message());
  std::vector<asio::ip::address> out;
  for (const auto& r : results) out.push_back(r.endpoint().address());
  if (out.empty()) return fail("cannot resolve " + host + ": no address");
  return out;
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
