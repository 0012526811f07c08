// The steps of one-shot delivery, shared by deliver() (client.cpp) and the
// session cache's delivery over a reused session (session_cache.cpp).
// Internal to the smtp component.
#pragma once

#include <optional>
#include <string_view>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "smtp/client.hpp"

namespace cordon::smtp::detail {

// Connect, greeting, EHLO (and STARTTLS as the options say): nullopt when
// the session is ready for MAIL, else the result that ends the delivery.
asio::awaitable<std::optional<DeliveryResult>> open_delivery(ClientSession& session,
                                                             asio::ip::tcp::endpoint server);

// MAIL, RCPT, DATA and the message on a session past EHLO; neither quits
// nor closes. With `stale` given, it is set when the server gave no reply at
// all to the envelope, or a 421 to MAIL (a cached session the server timed
// out or closed meanwhile): nothing was delivered.
asio::awaitable<DeliveryResult> deliver_transaction(ClientSession& session,
                                                    const DeliveryEnvelope& envelope,
                                                    std::string_view message, bool* stale);

// QUIT after a reply-level outcome, then close; returns `result`.
asio::awaitable<DeliveryResult> finish(ClientSession& session, DeliveryResult result);

}  // namespace cordon::smtp::detail
