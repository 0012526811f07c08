// Small pieces the gateway's parts share: running a blocking spool call on
// the worker pool from a coroutine on the I/O thread, the host name, and
// the adapters that map the configuration onto each component's options
// (the components never see config::Config).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include "config/config.hpp"
#include "queue/dlp_pool.hpp"
#include "queue/schedule.hpp"
#include "queue/spool.hpp"
#include "smtp/server.hpp"
#include "util/metrics.hpp"

namespace cordon::roles::gateway {

// Runs `work` (a blocking file-system call: fsync, rename) on the worker
// pool so that the I/O thread keeps serving sessions meanwhile, and resumes
// the caller on its own executor with the result. `work` must not throw.
// It is taken by reference, and callers pass a named lambda: GCC 12
// destroys a prvalue argument of a coroutine called in a co_await
// expression twice.
template <class F>
auto offload(asio::thread_pool& pool, F& work) -> asio::awaitable<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  auto home = co_await asio::this_coro::executor;
  std::optional<R> result;
  // Named, not a temporary inside the co_await expression: GCC 12 destroys
  // such temporaries twice.
  auto initiate = [&pool, &work, &result, home](auto handler) {
    asio::post(pool, [&work, &result, home, handler = std::move(handler)]() mutable {
      result.emplace(work());
      asio::post(home, std::move(handler));
    });
  };
  auto done =
      asio::async_initiate<decltype(asio::use_awaitable), void()>(initiate, asio::use_awaitable);
  co_await std::move(done);
  co_return std::move(*result);
}

// gateway.hostname, or the system's host name.
std::string gateway_hostname(const config::GatewayConfig& config);

// Configuration -> component options.
// Quarantined entries are counted in cordon_queue_quarantined_total{reason}.
queue::SpoolOptions spool_options(const config::Config& config, util::Metrics& metrics);
// `tls_context`: from dlp_tls_context, for tls: required.
queue::DlpPoolOptions dlp_pool_options(const config::DlpConfig& config,
                                       std::shared_ptr<asio::ssl::context> tls_context = nullptr);

// The context that verifies DLP hosts when tls is required; null otherwise.
// A CA file that cannot be loaded gives a context that trusts nothing (every
// DLP session then fails TLS and messages stay queued), with an error in
// the log: never an unverified session.
std::shared_ptr<asio::ssl::context> dlp_tls_context(const config::DlpConfig& config);
queue::RetryPolicy retry_policy(const config::GatewayConfig& config);
// The listeners' options; an error when STARTTLS is configured and its
// certificate or key does not load.
Result<smtp::ServerOptions, std::string> server_options(const config::Config& config,
                                                        const std::string& hostname);

}  // namespace cordon::roles::gateway
