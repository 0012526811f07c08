// SMTP client on standalone Asio: a step-wise session (prevent mirrors an
// upstream conversation onto a downstream server with it) and a one-shot
// deliver() whose result tells apart exactly the failure classes the
// gateway's DLP bypass logic depends on (README, "The three behaviours", 3).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include "smtp/command.hpp"
#include "smtp/reply.hpp"
#include "util/result.hpp"

namespace cordon::smtp {

// Where in the conversation something happened.
enum class Stage {
  connect,
  greeting,
  helo,
  starttls,
  xforward,
  mail,
  rcpt,
  data,
  data_end,
  rset,
  quit
};
std::string_view to_string(Stage stage);

enum class TlsPolicy {
  none,           // never STARTTLS
  opportunistic,  // STARTTLS when offered; refused STARTTLS -> continue in plaintext
  required,       // not offered, refused or failed -> tls_failed
};

// Each bounds the wait for the reply of its stage (connect: the TCP
// handshake; data: the message transfer and its 250 together use data_end).
struct ClientTimeouts {
  std::chrono::milliseconds connect{std::chrono::seconds(30)};
  std::chrono::milliseconds greeting{std::chrono::minutes(5)};
  std::chrono::milliseconds helo{std::chrono::minutes(5)};
  std::chrono::milliseconds starttls{std::chrono::minutes(2)};
  std::chrono::milliseconds mail{std::chrono::minutes(5)};
  std::chrono::milliseconds rcpt{std::chrono::minutes(5)};
  std::chrono::milliseconds data{std::chrono::minutes(2)};
  std::chrono::milliseconds data_end{std::chrono::minutes(10)};
  std::chrono::milliseconds quit{std::chrono::minutes(1)};
};

struct ClientOptions {
  std::string helo_name = "localhost";
  TlsPolicy tls = TlsPolicy::none;
  // Null: a context that negotiates TLS 1.2+ without verifying the peer.
  std::shared_ptr<asio::ssl::context> tls_context;
  std::string tls_server_name;  // SNI, and the name verified when the context verifies
  ClientTimeouts timeouts;
  bool pipelining = true;  // use PIPELINING when the server offers it
};

// What the server's EHLO reply offered.
struct Capabilities {
  bool esmtp = false;  // EHLO accepted (false after a HELO fallback)
  bool pipelining = false, starttls = false, eight_bit_mime = false, smtputf8 = false;
  bool dsn = false, enhanced_status_codes = false, size = false;
  std::uint64_t max_size = 0;           // 0: no limit announced
  std::vector<std::string> xforward{};  // XFORWARD attributes offered (upper case); empty: none
};

enum class ClientErrorKind {
  connect_failed,   // refused, no route, unreachable, or the TCP connect timed out
  timed_out,        // connected, but a reply did not arrive in time
  tls_failed,       // required TLS not offered/refused, or the handshake failed
  connection_lost,  // the server closed the connection without a reply
  protocol_error,   // a malformed reply
  invalid_command,  // a command would carry CR, LF or NUL (e.g. in an address); nothing was sent
};

struct ClientError {
  ClientErrorKind kind;
  Stage stage;
  std::string detail;
};

template <class T>
using ClientResult = Result<T, ClientError>;

// Step-wise session (string_view arguments must outlive the awaited call).
// A command that would contain CR, LF or NUL (a hostile address smuggling
// a second command into the next hop's conversation) is never written: the
// call fails with invalid_command and the session is closed.
// Every call returns the server's reply (whatever its
// code: a 4xx/5xx is the caller's decision) or a ClientError when no reply
// could be had. After an error the session is closed.
class ClientSession {
 public:
  ClientSession(asio::any_io_executor executor, ClientOptions options);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // TCP connect, then read the greeting (returned).
  asio::awaitable<ClientResult<Reply>> connect(asio::ip::tcp::endpoint server);
  // EHLO (HELO if EHLO is refused with 5xx), then STARTTLS and EHLO again as
  // the TLS policy says. Returns the last EHLO/HELO reply.
  asio::awaitable<ClientResult<Reply>> hello();
  // No default arguments on purpose: GCC 12 destroys a defaulted temporary
  // twice inside a co_await expression; the one-argument forms are safe.
  asio::awaitable<ClientResult<Reply>> mail(std::string_view sender, const MailParams& params);
  asio::awaitable<ClientResult<Reply>> mail(std::string_view sender);
  asio::awaitable<ClientResult<Reply>> rcpt(std::string_view recipient, const RcptParams& params);
  asio::awaitable<ClientResult<Reply>> rcpt(std::string_view recipient);
  // MAIL and all RCPTs, pipelined when offered (RFC 2920); a refused MAIL
  // leaves `rcpt` empty when not pipelined.
  struct EnvelopeReplies {
    Reply mail;
    std::vector<Reply> rcpt;
  };
  asio::awaitable<ClientResult<EnvelopeReplies>> envelope(std::string_view sender,
                                                          const MailParams& params,
                                                          const std::vector<RcptTo>& recipients);
  // DATA command alone: 354 expected.
  asio::awaitable<ClientResult<Reply>> data_begin();
  // After a 354: the message (any line ends; normalised to CRLF, dot-stuffed)
  // and the final reply.
  asio::awaitable<ClientResult<Reply>> data_send(std::string_view message);
  // DATA then, on 354, the message; returns the DATA refusal or the final reply.
  asio::awaitable<ClientResult<Reply>> data(std::string_view message);
  asio::awaitable<ClientResult<Reply>> rset();
  // XFORWARD (before MAIL) with the attributes the server offered, in as
  // many commands as the line limit needs; the last reply, or nullopt when
  // the server offers no XFORWARD (nothing is sent then).
  asio::awaitable<ClientResult<std::optional<Reply>>> xforward(
      const std::vector<XforwardAttribute>& attributes);
  // xforward() and then MAIL, written as one batch when the server offers
  // PIPELINING (as Postfix's client groups them), else one after the
  // other; MAIL goes out whatever XFORWARD was answered. One round trip
  // instead of two for every message relayed to a Postfix-like next hop.
  struct ForwardedMail {
    std::optional<Reply> xforward;  // the last XFORWARD reply; none when not offered
    Reply mail;
  };
  asio::awaitable<ClientResult<ForwardedMail>> xforward_and_mail(
      const std::vector<XforwardAttribute>& attributes, std::string_view sender,
      const MailParams& params);
  asio::awaitable<ClientResult<Reply>> quit();  // QUIT, then close
  void close();

  const Capabilities& capabilities() const;
  bool tls_active() const;
  // Stage of the last reply returned (or of the failure).
  Stage stage() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot delivery.
struct DeliveryEnvelope {
  std::string sender;
  MailParams params;
  std::vector<RcptTo> recipients;
};

enum class DeliveryOutcome {
  ok,              // accepted by the final reply (some recipients may have been refused)
  connect_failed,  // no TCP connection could be made
  timed_out,       // connected, then a stage timed out (see stage)
  tls_failed,      // TLS required and not negotiated
  transient,       // a 4xx (reply holds it); also a lost connection or malformed
                   // reply after connect, reported with a local 421 4.4.2 / 451 4.5.0
  permanent,       // a 5xx (reply holds it); also a command refused before sending
                   // (CR, LF or NUL in an address or name), with a local 553 5.1.7 /
                   // 553 5.1.3 / 501 5.5.2
};
std::string_view to_string(DeliveryOutcome outcome);

struct RecipientResult {
  std::string recipient;
  Reply reply;  // the RCPT reply
};

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::ok;
  Stage stage = Stage::connect;             // where the outcome was decided
  Reply reply;                              // the deciding reply (final 250 when ok)
  std::vector<RecipientResult> recipients;  // per recipient, in envelope order
  bool tls = false;                         // the session ran over TLS
  std::string detail;                       // human-readable cause for failures without a reply
};

// A client context (TLS 1.2+) that verifies the server's certificate
// against the CAs in `ca_file` (PEM), or the system store when it is empty.
// The name is verified by the session (ClientOptions::tls_server_name).
Result<std::shared_ptr<asio::ssl::context>, std::string> make_verifying_client_tls_context(
    const std::string& ca_file);

// Connects, greets, optionally STARTTLS, sends the envelope and message,
// QUITs. `message` must stay alive until the coroutine completes. When
// every recipient is refused, the outcome is transient if any
// refusal was 4xx, else permanent (stage rcpt).
asio::awaitable<DeliveryResult> deliver(asio::any_io_executor executor,
                                        asio::ip::tcp::endpoint server, ClientOptions options,
                                        DeliveryEnvelope envelope, std::string_view message);

// deliver() to host:port: an IP literal directly, a name through the
// resolver (its first address). A name that does not resolve is
// connect_failed with the resolver's error as the detail. Arguments by
// reference: GCC 12 destroys a prvalue argument of a coroutine called in a
// co_await expression twice.
asio::awaitable<DeliveryResult> deliver_to_host(const asio::any_io_executor& executor,
                                                const std::string& host, std::uint16_t port,
                                                const ClientOptions& options,
                                                const DeliveryEnvelope& envelope,
                                                std::string_view message);

}  // namespace cordon::smtp
