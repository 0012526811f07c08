// The gateway's DLP pool: hands a message to the configured DLP hosts, in
// order, and turns what happened into one verdict, exactly as the README's
// third exact behaviour (gateway DLP bypass) says:
//
//  - a host answers 2xx to the whole transaction     -> passed
//  - any 4xx (or a lost connection) at any stage      -> deferred (stays queued)
//  - any 5xx at any stage                             -> bounced (DSN with DLP's text)
//  - a host refuses TCP (or the connect times out)    -> the next host is tried
//  - a host accepts TCP, then the session times out   -> the next host is tried
//  - TLS required and not negotiated                  -> the next host is tried;
//                                                        if none gives a verdict: deferred
//  - no verdict from any host:
//      every host refused TCP                         -> bypass (reason "unreachable")
//      exactly one host accepted TCP and timed out,
//      every other refused TCP                        -> bypass (reason "session_timeout")
//      two or more hosts accepted TCP and timed out   -> deferred: another host DID accept
//                                                        a connection, so the rule's
//                                                        condition for bypass does not hold
//  - bypass disabled (fail closed)                    -> fail_closed instead of bypass
//
// Circuit breakers. A host whose breaker is open is skipped on the first
// pass, which saves a connect timeout per message while a healthy host
// gives verdicts. It is never counted as unreachable without a connection
// attempt: when the first pass ends without a verdict, every skipped host
// is tried (a full attempt, breaker ignored) before anything is decided.
// So a bypass always rests on a connection attempt to every configured host
// made for this very message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "queue/schedule.hpp"
#include "smtp/client.hpp"

namespace cordon::queue {

// A DLP host as configured: a name or an IP literal, and a port.
struct DlpHost {
  std::string host;
  std::uint16_t port = 0;
  // "host:port", "[v6]:port": the breaker key and the name in logs.
  std::string to_string() const;
};

// What the pool needs to know; the gateway maps its configuration onto it.
struct DlpPoolOptions {
  std::vector<DlpHost> hosts;  // tried in order
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds session_timeout{std::chrono::seconds(30)};
  smtp::TlsPolicy tls = smtp::TlsPolicy::none;
  // Verifying context for required TLS (null: negotiate without verifying),
  // and the name the certificate must carry (empty: each host's own name).
  std::shared_ptr<asio::ssl::context> tls_context;
  std::string tls_server_name;
  bool bypass = true;  // false: fail closed (stay queued)
};

enum class DlpOutcome { passed, deferred, bounced, bypass, fail_closed };
std::string_view to_string(DlpOutcome outcome);

struct DlpVerdict {
  DlpOutcome outcome = DlpOutcome::deferred;
  std::string host;  // host:port that decided (passed, deferred by reply, bounced)
  // That host's attempt (reply, per-recipient replies). When no host
  // decided (deferred without a reply, bypass, fail_closed): outcome
  // transient, no reply, and `detail` as its detail.
  smtp::DeliveryResult result;
  // Metric label for bypass / fail_closed: unreachable | session_timeout.
  std::string bypass_reason;
  std::string detail;  // human-readable: the reply, or what each host did
};

// One delivery attempt to one DLP host (smtp::deliver in production; a
// fake in unit tests).
using DlpAttempt = std::function<asio::awaitable<smtp::DeliveryResult>(const DlpHost&)>;

asio::awaitable<DlpVerdict> run_dlp_pool(const DlpPoolOptions& options, CircuitBreakers& breakers,
                                         const DlpAttempt& attempt);

// Client options for a DLP host: connect_timeout for the TCP handshake,
// session_timeout for every reply after it.
smtp::ClientOptions dlp_client_options(const DlpPoolOptions& options, const std::string& helo_name);

// The same for one host: with a verifying context, the name verified is
// tls_server_name or else the host's own.
smtp::ClientOptions dlp_client_options(const DlpPoolOptions& options, const std::string& helo_name,
                                       const DlpHost& host);

}  // namespace cordon::queue
