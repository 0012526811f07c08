// SessionCache: parked client sessions, their reuse, and the idle sweep.
#include "smtp/session_cache.hpp"

#include <algorithm>

#include <asio/ip/address.hpp>

#include "smtp/detail/delivery.hpp"

namespace cordon::smtp {
namespace {

// Sessions are interchangeable only with the same server and everything the
// session negotiated from the options.
std::string cache_key(const asio::ip::tcp::endpoint& server, const ClientOptions& options) {
  std::string key = server.address().to_string() + "|" + std::to_string(server.port()) + "|" +
                    options.helo_name + "|" + std::to_string(static_cast<int>(options.tls)) + "|" +
                    options.tls_server_name + "|" +
                    std::to_string(reinterpret_cast<std::uintptr_t>(options.tls_context.get())) +
                    (options.pipelining ? "|p" : "|n");
  return key;
}

}  // namespace

std::shared_ptr<SessionCache> SessionCache::create(asio::any_io_executor executor,
                                                   SessionCacheOptions options) {
  return std::shared_ptr<SessionCache>(new SessionCache(std::move(executor), options));
}

SessionCache::SessionCache(asio::any_io_executor executor, SessionCacheOptions options)
    : executor_(executor), options_(options), timer_(executor) {}

SessionCache::~SessionCache() {
  timer_.cancel();
}

asio::awaitable<DeliveryResult> SessionCache::deliver(const std::string& host, std::uint16_t port,
                                                      const ClientOptions& options,
                                                      const DeliveryEnvelope& envelope,
                                                      std::string_view message) {
  auto self = shared_from_this();
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    // A name: resolved afresh for every delivery, never cached.
    co_return co_await deliver_to_host(executor_, host, port, options, envelope, message);
  }
  const asio::ip::tcp::endpoint server(address, port);
  const std::string key = cache_key(server, options);
  std::size_t uses = 0;
  std::unique_ptr<ClientSession> session = take(key, uses);
  if (session) {
    bool stale = false;
    auto result = co_await detail::deliver_transaction(*session, envelope, message, &stale);
    if (!stale) {
      {
        std::lock_guard lock(mutex_);
        ++counters_.reused;
      }
      if (result.outcome == DeliveryOutcome::ok && uses + 1 < options_.max_uses &&
          park(key, session, uses + 1))
        co_return result;
      co_return co_await detail::finish(*session, std::move(result));
    }
    {
      std::lock_guard lock(mutex_);
      ++counters_.stale;
    }
    session->close();
  }
  session = std::make_unique<ClientSession>(executor_, options);
  {
    std::lock_guard lock(mutex_);
    ++counters_.opened;
  }
  if (auto failed = co_await detail::open_delivery(*session, server))
    co_return co_await detail::finish(*session, std::move(*failed));
  auto result = co_await detail::deliver_transaction(*session, envelope, message, nullptr);
  if (result.outcome == DeliveryOutcome::ok && options_.max_uses > 1 && park(key, session, 1))
    co_return result;
  co_return co_await detail::finish(*session, std::move(result));
}

std::unique_ptr<ClientSession> SessionCache::checkout(const asio::ip::tcp::endpoint& server,
                                                      const ClientOptions& options,
                                                      std::size_t& uses) {
  uses = 0;
  return take(cache_key(server, options), uses);
}

bool SessionCache::checkin(const asio::ip::tcp::endpoint& server, const ClientOptions& options,
                           std::unique_ptr<ClientSession>& session, std::size_t uses) {
  if (!session || uses >= options_.max_uses) return false;
  return park(cache_key(server, options), session, uses);
}

void SessionCache::record(SessionUse use) {
  std::lock_guard lock(mutex_);
  switch (use) {
    case SessionUse::reused:
      ++counters_.reused;
      break;
    case SessionUse::opened:
      ++counters_.opened;
      break;
    case SessionUse::stale:
      ++counters_.stale;
      break;
  }
}

std::unique_ptr<ClientSession> SessionCache::take(const std::string& key, std::size_t& uses) {
  std::lock_guard lock(mutex_);
  sweep();
  // The most recently parked first: the likeliest to be still open.
  for (auto it = parked_.rbegin(); it != parked_.rend(); ++it) {
    if (it->key != key) continue;
    auto session = std::move(it->session);
    uses = it->uses;
    parked_.erase(std::next(it).base());
    return session;
  }
  return nullptr;
}

bool SessionCache::park(std::string key, std::unique_ptr<ClientSession>& session,
                        std::size_t uses) {
  std::lock_guard lock(mutex_);
  const auto same =
      std::count_if(parked_.begin(), parked_.end(), [&](const Parked& p) { return p.key == key; });
  if (static_cast<std::size_t>(same) >= options_.max_per_server) return false;
  parked_.push_back({std::move(key), std::move(session), uses, std::chrono::steady_clock::now()});
  arm();
  return true;
}

void SessionCache::sweep() {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(parked_, [&](Parked& p) {
    if (now - p.since < options_.idle) return false;
    p.session->close();
    return true;
  });
}

void SessionCache::arm() {
  if (armed_ || parked_.empty()) return;
  armed_ = true;
  timer_.expires_after(options_.idle);
  timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex_);
    self->armed_ = false;
    self->sweep();
    self->arm();
  });
}

void SessionCache::clear() {
  std::lock_guard lock(mutex_);
  for (auto& p : parked_) p.session->close();
  parked_.clear();
}

std::size_t SessionCache::parked() const {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

SessionCacheCounters SessionCache::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace cordon::smtp
