// A passive SMTP observer: reads both directions of one SMTP connection as
// a third party sees them (a capture) and hands out the messages that went
// through it. Knows no packets: bytes, gaps and the end come from the caller.
//
// Each client command is paired with the server's reply, so only accepted
// recipients count and the bytes after a rejected DATA are read as
// commands, as the server read them. PIPELINING needs nothing special:
// replies answer pending commands in order; where the meaning of the next
// client bytes depends on a reply (DATA, AUTH, STARTTLS), they wait for it.
// DATA content is dot-unstuffed up to CRLF.CRLF, which may be split at any
// byte across deliveries; BDAT chunks (BDAT 0 LAST included) are taken by
// length and kept only when the server accepted them. After a 220 to
// STARTTLS the rest of the connection is encrypted: it is reported once
// and not read. AUTH exchanges are skipped.
//
// Fail closed: a reply never seen (one direction captured, a gap) counts as
// acceptance, so a recipient or a message is never dropped for want of it.
// A gap in a message marks it incomplete (it is still handed out, to be
// inspected as far as it goes); a gap in the commands drops the partial
// line and the client side resynchronises at the next line that is a
// well-formed command. A connection captured from the middle starts that way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::smtp {

struct ObserverLimits {
  std::size_t max_line_bytes = 4096;          // a longer command or reply line is skipped (counted)
  std::size_t max_message_bytes = 64u << 20;  // content past it is cut off (message incomplete)
  // Client bytes held while waiting for a reply (a one-direction capture
  // never sees one): past this the reply is taken as positive.
  std::size_t max_held_bytes = 1u << 20;
};

struct ObservedMessage {
  std::string sender;  // "" for <> or when MAIL was not seen
  bool sender_seen = false;
  std::string helo;  // the last EHLO/HELO name the client gave ("" when not seen)
  // Accepted by the server, or whose reply was never seen.
  std::vector<std::string> recipients;
  std::string content;     // DATA unstuffed, or the accepted BDAT chunks
  bool complete = true;    // false: see `incomplete`
  std::string incomplete;  // why: "gap of 1460 bytes", "connection closed in DATA", ...
  bool bdat = false;
  // The session switched to TLS: no content; one such record per connection.
  bool encrypted = false;
  std::optional<int> reply;  // the server's reply to the end of the message, if seen
};

struct ObserverStats {
  std::uint64_t commands = 0;
  std::uint64_t replies = 0;
  std::uint64_t long_lines = 0;            // skipped by max_line_bytes
  std::uint64_t unanswered = 0;            // replies assumed (never seen)
  std::uint64_t resyncs = 0;               // client side resynchronised after a gap
  std::uint64_t skipped_client_bytes = 0;  // read while resynchronising
};

class Observer {
 public:
  using Sink = std::function<void(ObservedMessage&&)>;
  // `from_start`: the connection's opening was seen, so the first reply is
  // the greeting; otherwise the client side starts resynchronising.
  Observer(ObserverLimits limits, bool from_start, Sink sink);
  ~Observer();
  Observer(Observer&&) noexcept;
  Observer& operator=(Observer&&) noexcept;

  void client_data(std::string_view bytes);
  void server_data(std::string_view bytes);
  void client_gap(std::uint64_t bytes);
  void server_gap(std::uint64_t bytes);
  // The connection ended: messages still waiting are handed out.
  void close(std::string_view why);
  bool encrypted() const;
  const ObserverStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::smtp
