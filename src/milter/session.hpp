// One milter connection as a state machine without I/O: frames from the
// MTA in, bytes for the MTA out, and at the end of each message the message
// handed to the caller, who answers with a Decision. Knows the protocol,
// never the policy. server.hpp runs it on sockets.
//
// What it negotiates (SMFIC_OPTNEG): version min(6, the MTA's); of the
// actions the MTA offers, only those cordon can take (add, insert and
// change headers, add and delete recipients, quarantine); every protocol
// step's no-reply flag the MTA offers, since cordon decides only at the end
// of the message; header values with their leading space when offered (so
// the message is inspected as written); and nothing it would not use:
// unknown commands are declined when the MTA allows it.
//
// Error policy (fail closed): a command the protocol does not define is
// logged and never answered (an answer the MTA did not expect would be read
// as the reply to a later event, possibly as an accept); a known command
// whose payload does not parse is logged and answered as its step was
// negotiated. Either way the message under way is tempfailed at its end. A
// modification the MTA did not allow turns the decision into a tempfail:
// cordon never accepts a message it could not act on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "milter/codec.hpp"

namespace cordon::milter {

// One message as the MTA described it.
struct Message {
  std::string client_host;     // SMFIC_CONNECT host name
  std::string client_address;  // SMFIC_CONNECT address (or {client_addr})
  std::string helo;
  std::string sender;                   // MAIL FROM, angle brackets removed
  std::vector<std::string> recipients;  // every RCPT TO, angle brackets removed
  // Every macro the MTA sent for this connection and message, names
  // without braces ("i", "auth_authen", "client_addr"); later values win.
  std::map<std::string, std::string> macros;
  // Headers as received: name, and value without the one leading space.
  std::vector<std::pair<std::string, std::string>> headers;
  // The message as RFC 5322 text with CRLF line ends: headers, empty line,
  // body. What the inspection sees.
  std::string content;
  // The content exceeded SessionOptions::max_message_bytes; `content` holds
  // its first max_message_bytes.
  bool truncated = false;
  // An unknown command or an undecodable payload arrived during this
  // message (the session already logged it).
  bool protocol_doubt = false;

  std::string macro(std::string_view name) const;  // "" when not sent
  std::string queue_id() const { return macro("i"); }
};

// A message modification, sent at the end of the message.
struct Change {
  enum class Kind { add_header, insert_header, change_header, add_recipient, delete_recipient };
  Kind kind = Kind::add_header;
  std::uint32_t index = 0;  // insert: 0 = top; change: 1 = first of that name
  std::string name;         // header name, or the recipient address
  std::string value;        // header value without a leading space; change: "" deletes
};

struct Decision {
  enum class Kind { accept, reply, discard };
  Kind kind = Kind::accept;
  std::string smtp_reply;                 // kind reply: a 4xx or 5xx reply, one or more CRLF lines
  std::vector<Change> changes;            // applied only with kind accept
  std::optional<std::string> quarantine;  // hold the message; the reason
  static Decision accept() { return {}; }
  static Decision reply(std::string text) { return {Kind::reply, std::move(text), {}, {}}; }
};

struct SessionOptions {
  std::size_t max_message_bytes = 50u << 20;
};

// What the session tells its runner about a step.
struct Step {
  std::string output;  // bytes to send now (may be empty)
  bool close = false;  // close the connection after sending `output`
  // The end of a message: answer it with Session::finish(); no other
  // frame comes until then.
  std::shared_ptr<const Message> message;
  std::string warning;  // something to log at warning level
};

// Protocol events worth counting, reported by Session::take_events().
enum class Event { unknown_command, malformed_payload, aborted, disallowed_change };

class Session {
 public:
  explicit Session(SessionOptions options) : options_(options) {}
  Step on_frame(const Frame& frame);
  // The reply to the message last handed out, with its modifications.
  std::string finish(const Decision& decision);
  static std::string progress() { return encode(reply::progress); }
  // True while a message has begun (MAIL seen) and has not ended.
  bool in_message() const { return in_message_; }
  const OptionNegotiation& negotiated() const { return negotiated_; }
  std::vector<Event> take_events() { return std::exchange(events_, {}); }
  // The warning of the last finish(), if any.
  const std::string& finish_warning() const { return finish_warning_; }

 private:
  Step negotiate(std::string_view data);
  void store_macros(std::string_view data, Step& step);
  bool needs_reply(char command) const;
  void reset_message();
  void doubt(Event event, std::string what, Step& step);
  std::string header_value(std::string_view value) const;

  SessionOptions options_;
  OptionNegotiation negotiated_;
  bool negotiated_once_ = false;
  Message connection_;  // connection-level fields and macros
  Message message_;
  bool in_message_ = false;
  bool eoh_seen_ = false;
  bool awaiting_decision_ = false;
  std::vector<Event> events_;
  std::string finish_warning_;
};

}  // namespace cordon::milter
