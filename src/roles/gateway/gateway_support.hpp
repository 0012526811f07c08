// Small pieces the gateway's parts share: running a blocking spool call on
// the worker pool from a coroutine on the I/O thread, converting SMTP
// parameters to the queue's envelope form (xtext), and the host name.
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
#include "queue/envelope.hpp"
#include "smtp/command.hpp"

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

// RFC 3461 xtext.
std::string xtext_decode(std::string_view text);
std::string xtext_encode(std::string_view text);

// Envelope parameters as the queue keeps them, and back for the next hop.
queue::MailParams to_queue_params(const smtp::MailParams& params);
smtp::MailParams to_smtp_params(const queue::MailParams& params);
queue::Recipient to_queue_recipient(const smtp::RcptTo& rcpt);
smtp::RcptTo to_smtp_recipient(const queue::Recipient& recipient);

// The domain of an address, lower case; empty when there is none.
std::string domain_of(std::string_view address);

// gateway.hostname, or the system's host name.
std::string gateway_hostname(const config::GatewayConfig& config);

}  // namespace cordon::roles::gateway
