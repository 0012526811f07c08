// The hook interface a role implements to decide on an SMTP conversation
// (prevent and gateway implement it; MemoryHandler in server.hpp is the
// default used by tests). Hooks are coroutines because a decision may need
// I/O, e.g. prevent mirroring each step onto a downstream server. The
// session owns the protocol (syntax, sequencing, limits, dot-unstuffing);
// hooks only decide.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "smtp/command.hpp"
#include "smtp/reply.hpp"

namespace cordon::smtp {

// What an MTA in front of us said about its own client with XFORWARD, for
// the current transaction; what it did not say (or said was
// [UNAVAILABLE]) is empty.
struct Forwarded {
  std::string name;  // the client's host name
  std::string addr;  // its address (IPv6 without the IPV6: prefix)
  std::string port;
  std::string proto;  // SMTP, ESMTP, ...
  std::string helo;
  std::string ident;   // the upstream's queue id
  std::string source;  // LOCAL | REMOTE
};

// What a session knows; hooks get it read-only. The transaction fields
// (mail, recipients) describe the message being received.
struct SessionInfo {
  std::string id;           // unique per server process, for logs and traces
  std::string server_name;  // our host name, as in the greeting
  asio::ip::tcp::endpoint client;
  asio::ip::tcp::endpoint local;
  std::string helo_name;     // as given by EHLO/HELO; empty before
  bool esmtp = false;        // EHLO (true) or HELO (false)
  bool tls = false;          // STARTTLS completed
  std::string tls_protocol;  // e.g. "TLSv1.3"
  std::string tls_cipher;
  std::optional<MailFrom> mail;    // set after an accepted MAIL
  std::vector<RcptTo> recipients;  // accepted recipients of this transaction
  std::uint64_t messages = 0;      // transactions completed in this session
  // Set by XFORWARD from a client allowed to send it; reset with the
  // transaction.
  std::optional<Forwarded> forwarded{};
};

// An IPv4-mapped IPv6 address (a dual-stack listener) as the IPv4 address
// it stands for; any other address unchanged.
asio::ip::address unmapped(const asio::ip::address& address);

// The connection's peer address as text, through unmapped(): the host that
// is talking, whatever it says in XFORWARD.
std::string peer_address(const SessionInfo& session);

// The client this transaction is for: the forwarded one when an XFORWARD
// came (never mixed with the connection's own attributes), else the
// connection's peer (peer_address) and its EHLO/HELO name.
std::string client_address(const SessionInfo& session);
std::string client_helo(const SessionInfo& session);

// Receives the message content of one transaction: dot-unstuffed, CRLF line
// ends preserved, in order, in chunks of arbitrary size. The final CRLF of
// the last line is part of the content; the terminating "." is not.
class DataSink {
 public:
  virtual ~DataSink() = default;
  virtual asio::awaitable<void> write(std::string_view chunk) = 0;
};

struct DataStart {
  Reply reply;                     // 354 to go ahead, anything else refuses DATA
  std::unique_ptr<DataSink> sink;  // required with 354
};

// One Handler per connection (created by the server's HandlerFactory), so it
// may keep per-session state. Every hook has a permissive default.
class Handler {
 public:
  virtual ~Handler() = default;

  // nullopt: send the standard 220 greeting. A 421 reply closes the
  // connection; a 554 reply leaves only QUIT usable (RFC 5321 3.1).
  virtual asio::awaitable<std::optional<Reply>> on_connect(const SessionInfo& session);
  // nullopt: accept (the session answers with its EHLO/HELO reply); a
  // Reply: send it instead, and the client stays without a greeting.
  virtual asio::awaitable<std::optional<Reply>> on_helo(const SessionInfo& session,
                                                        std::string_view name);
  // 2xx accepts the sender; the reply is sent as returned.
  virtual asio::awaitable<Reply> on_mail(const SessionInfo& session, const MailFrom& mail);
  // 2xx adds the recipient; the reply is sent as returned.
  virtual asio::awaitable<Reply> on_rcpt(const SessionInfo& session, const RcptTo& rcpt);
  // Called once the session has checked sequence (MAIL and a recipient given).
  virtual asio::awaitable<DataStart> on_data_begin(const SessionInfo& session) = 0;
  // The whole content reached the sink and was valid; the reply (possibly a
  // preformatted multi-line block) is sent as returned. The transaction ends.
  virtual asio::awaitable<Reply> on_data_end(const SessionInfo& session,
                                             std::uint64_t message_size) = 0;
  // The content was refused by the session (size, bare CR/LF, line length,
  // connection lost); `sent` is what the client was told. Discard the sink's data.
  virtual asio::awaitable<void> on_data_abort(const SessionInfo& session, const Reply& sent);
  // A transaction with at least MAIL accepted was discarded (RSET, EHLO/HELO, STARTTLS).
  virtual asio::awaitable<void> on_rset(const SessionInfo& session);
  // Last call, whatever ended the session.
  virtual asio::awaitable<void> on_disconnect(const SessionInfo& session);
};

}  // namespace cordon::smtp
