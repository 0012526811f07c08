// The inline relay: an smtp::Handler that mirrors the upstream transaction
// (MAIL, RCPT, RSET) onto a next hop with the smtp client, buffers the
// content, and at end of data asks a decision what to do with it. Nothing
// is acknowledged upstream that the next hop has not accepted: a next hop
// that cannot be reached or answers too late turns into 451 4.4.1, never
// into a 250. The relay knows no policy; the decision is the caller's.
// When the next hop offers XFORWARD, each transaction tells it who the
// client was (the one our own client forwarded, if it did).
// With a session cache, the next hop session outlives the upstream one: at
// the upstream's QUIT it is parked between transactions (RSET first if one
// was open) and the next upstream session's MAIL reuses it; a parked
// session the next hop closed or timed out meanwhile (no reply, or 421, to
// XFORWARD or MAIL) is dropped and the transaction goes over a new one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>

#include "smtp/client.hpp"
#include "smtp/handler.hpp"
#include "smtp/reply.hpp"
#include "smtp/session_cache.hpp"

namespace cordon::smtp {

// The relay's waits on the next hop. The upstream MTA waits for our final
// reply while we wait for the next hop's (Postfix waits 600 s for it): our
// waits end first, so the upstream gets an answer, not a timeout.
ClientTimeouts relay_timeouts();

struct RelayOptions {
  std::string host;  // next hop: an address or a name to resolve
  std::uint16_t port = 25;
  std::string helo_name;
  ClientTimeouts timeouts = relay_timeouts();
  std::string log_name = "relay";  // prefix of the relay's log lines
  // Who may use the relay; null: everyone. Others get 554 5.7.1 at the
  // greeting (only QUIT works after it), so the relay is never open.
  std::function<bool(const asio::ip::address&)> client_allowed;
  // Next hop sessions kept between upstream sessions; null: each upstream
  // session opens its own and QUITs it at the end.
  std::shared_ptr<SessionCache> sessions;
};

// What to do with one message at end of data.
struct RelayDecision {
  enum class Kind {
    relay,     // send `content` as the mirrored transaction's DATA
    redirect,  // send `content` to `redirect_to` alone instead of the recipients
    answer,    // drop the downstream transaction and answer `reply` upstream
  };
  Kind kind = Kind::answer;
  std::shared_ptr<const std::string> content;
  std::string redirect_to;
  Reply reply;
  // Called with the reply the upstream gets, once it is known.
  std::function<void(const Reply&)> on_answer;

  static RelayDecision relay(std::shared_ptr<const std::string> content);
  static RelayDecision redirect(std::shared_ptr<const std::string> content, std::string to);
  static RelayDecision answer(Reply reply);
};

struct RelayHooks {
  // Runs at end of data when the next hop holds the mirrored transaction.
  std::function<asio::awaitable<RelayDecision>(const SessionInfo&,
                                               std::shared_ptr<const std::string> message)>
      decide;
  std::function<void()> downstream_error;  // a next hop connection or reply failed
  std::function<void()> deferred;          // the upstream is answered 4xx by the relay
  std::function<void()> client_refused;    // a client outside client_allowed connected
};

// One handler per upstream session.
std::unique_ptr<Handler> make_relay_handler(asio::any_io_executor io, RelayOptions options,
                                            RelayHooks hooks);

}  // namespace cordon::smtp
