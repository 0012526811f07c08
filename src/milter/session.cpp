// The milter connection state machine (see session.hpp).
#include "milter/session.hpp"

#include <algorithm>
#include <cctype>

namespace cordon::milter {
namespace {

constexpr std::uint32_t kWantedActions = action::add_headers | action::change_headers |
                                         action::add_rcpt | action::del_rcpt | action::quarantine;
constexpr std::uint32_t kWantedSteps = step::nr_connect | step::nr_helo | step::nr_mail |
                                       step::nr_rcpt | step::nr_data | step::nr_unknown |
                                       step::nr_header | step::nr_eoh | step::nr_body |
                                       step::no_unknown | step::header_leading_space;

std::string without_brackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
    address = address.substr(1, address.size() - 2);
  return std::string(address);
}

std::string macro_name(std::string_view name) {
  if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
    name = name.substr(1, name.size() - 2);
  return std::string(name);
}

// Folded header lines come separated by a bare LF (Sendmail's convention,
// which Postfix follows); the inspected message has CRLF everywhere.
void append_crlf(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
    out.push_back(text[i]);
  }
}

std::uint32_t action_needed(Change::Kind kind) {
  switch (kind) {
    case Change::Kind::add_header:
    case Change::Kind::insert_header:
      return action::add_headers;
    case Change::Kind::change_header:
      return action::change_headers;
    case Change::Kind::add_recipient:
      return action::add_rcpt;
    case Change::Kind::delete_recipient:
      return action::del_rcpt;
  }
  return ~0u;
}

bool valid_reply(std::string_view reply) {
  return reply.size() >= 4 && (reply[0] == '4' || reply[0] == '5') &&
         std::isdigit(static_cast<unsigned char>(reply[1])) &&
         std::isdigit(static_cast<unsigned char>(reply[2])) && (reply[3] == ' ' || reply[3] == '-');
}

constexpr std::string_view kDoubtReply = "451 4.3.0 Message could not be read, try again later";
constexpr std::string_view kDisallowedReply =
    "451 4.3.0 Message could not be handled as the policy requires, try again later";

}  // namespace

std::string Message::macro(std::string_view name) const {
  auto it = macros.find(macro_name(name));
  return it == macros.end() ? std::string() : it->second;
}

bool Session::needs_reply(char command) const {
  std::uint32_t flag = 0;
  switch (command) {
    case cmd::connect:
      flag = step::nr_connect;
      break;
    case cmd::helo:
      flag = step::nr_helo;
      break;
    case cmd::mail:
      flag = step::nr_mail;
      break;
    case cmd::rcpt:
      flag = step::nr_rcpt;
      break;
    case cmd::data:
      flag = step::nr_data;
      break;
    case cmd::unknown:
      flag = step::nr_unknown;
      break;
    case cmd::header:
      flag = step::nr_header;
      break;
    case cmd::eoh:
      flag = step::nr_eoh;
      break;
    case cmd::body:
      flag = step::nr_body;
      break;
    default:
      return false;
  }
  return (negotiated_.protocol & flag) == 0;
}

Step Session::negotiate(std::string_view data) {
  Step step;
  auto offered = decode_optneg(data);
  if (!offered) {
    doubt(Event::malformed_payload, "option negotiation: " + std::string(describe(offered.error())),
          step);
    step.close = true;
    return step;
  }
  if (offered->version < 2) {
    step.warning = "the MTA offers milter protocol version " + std::to_string(offered->version) +
                   ", cordon needs 2 to 6";
    step.close = true;
    return step;
  }
  negotiated_.version = std::min(offered->version, kProtocolVersion);
  negotiated_.actions = offered->actions & kWantedActions;
  negotiated_.protocol = offered->protocol & kWantedSteps;
  negotiated_once_ = true;
  step.output = encode_optneg(negotiated_);
  return step;
}

void Session::doubt(Event event, std::string what, Step& step) {
  events_.push_back(event);
  if (in_message_) message_.protocol_doubt = true;
  if (!step.warning.empty()) step.warning += "; ";
  step.warning += what;
}

void Session::store_macros(std::string_view data, Step& step) {
  auto macros = decode_macros(data);
  if (!macros) {
    doubt(Event::malformed_payload, "macros: " + std::string(describe(macros.error())), step);
    return;
  }
  // Connection-level macros outlive the messages of the connection.
  const bool connection_level =
      macros->for_command == cmd::connect || macros->for_command == cmd::helo;
  auto& into = connection_level ? connection_.macros : message_.macros;
  for (auto& [name, value] : macros->values) into[macro_name(name)] = std::move(value);
}

void Session::reset_message() {
  message_ = Message{};
  eoh_seen_ = false;
  in_message_ = false;
  awaiting_decision_ = false;
}

std::string Session::header_value(std::string_view value) const {
  // With leading-space headers the MTA writes the value after the colon as
  // given; without, it adds the space itself.
  if (negotiated_.protocol & step::header_leading_space) return " " + std::string(value);
  return std::string(value);
}

Step Session::on_frame(const Frame& frame) {
  Step step;
  auto append = [&](std::string_view text, bool crlf) {
    if (message_.truncated) return;
    const std::size_t room = options_.max_message_bytes - message_.content.size();
    std::string piece;
    if (crlf)
      append_crlf(piece, text);
    else
      piece.assign(text);
    if (piece.size() > room) {
      message_.content.append(piece, 0, room);
      message_.truncated = true;
      return;
    }
    message_.content += piece;
  };
  auto continue_if_asked = [&](char command) {
    if (needs_reply(command)) step.output += encode(reply::continue_);
  };

  if (awaiting_decision_ && frame.code != cmd::abort && frame.code != cmd::quit) {
    doubt(Event::unknown_command,
          std::string("command '") + frame.code + "' while the end of message is unanswered", step);
    return step;
  }
  switch (frame.code) {
    case cmd::optneg:
      return negotiate(frame.data);
    case cmd::macro:
      store_macros(frame.data, step);
      return step;
    case cmd::connect: {
      reset_message();
      auto c = decode_connect(frame.data);
      if (!c) {
        doubt(Event::malformed_payload, "connect: " + std::string(describe(c.error())), step);
      } else {
        connection_.client_host = c->hostname;
        connection_.client_address = c->address;
      }
      continue_if_asked(frame.code);
      return step;
    }
    case cmd::helo: {
      auto args = decode_strings(frame.data);
      if (!args)
        doubt(Event::malformed_payload, "helo: " + std::string(describe(args.error())), step);
      else if (!args->empty())
        connection_.helo = args->front();
      continue_if_asked(frame.code);
      return step;
    }
    case cmd::mail: {
      // A MAIL begins a message: whatever came before it is dropped, as
      // the MTA's own transaction was.
      auto macros = std::move(message_.macros);
      reset_message();
      message_.macros = std::move(macros);
      in_message_ = true;
      auto args = decode_strings(frame.data);
      if (!args || args->empty())
        doubt(Event::malformed_payload, "mail: a MAIL without its sender", step);
      else
        message_.sender = without_brackets(args->front());
      continue_if_asked(frame.code);
      return step;
    }
    case cmd::rcpt: {
      auto args = decode_strings(frame.data);
      if (!args || args->empty())
        doubt(Event::malformed_payload, "rcpt: a RCPT without its recipient", step);
      else
        message_.recipients.push_back(without_brackets(args->front()));
      continue_if_asked(frame.code);
      return step;
    }
    case cmd::data:
    case cmd::unknown:
      continue_if_asked(frame.code);
      return step;
    case cmd::header: {
      auto header = decode_header(frame.data);
      if (!header) {
        doubt(Event::malformed_payload, "header: " + std::string(describe(header.error())), step);
      } else {
        std::string_view value = header->second;
        const bool leading = negotiated_.protocol & step::header_leading_space;
        append(header->first + ":" + (leading ? "" : " "), false);
        append(value, true);
        append("\r\n", false);
        if (leading && !value.empty() && value.front() == ' ') value.remove_prefix(1);
        message_.headers.emplace_back(header->first, std::string(value));
      }
      continue_if_asked(frame.code);
      return step;
    }
    case cmd::eoh:
      append("\r\n", false);
      eoh_seen_ = true;
      continue_if_asked(frame.code);
      return step;
    case cmd::body:
      if (!eoh_seen_) {
        append("\r\n", false);
        eoh_seen_ = true;
      }
      append(frame.data, false);
      continue_if_asked(frame.code);
      return step;
    case cmd::body_eob: {
      // The last body chunk may ride on the end-of-body command.
      if (!eoh_seen_) append("\r\n", false);
      append(frame.data, false);
      auto message = std::make_shared<Message>(std::move(message_));
      message->client_host = connection_.client_host;
      message->client_address = connection_.client_address;
      message->helo = connection_.helo;
      for (const auto& [name, value] : connection_.macros) message->macros.emplace(name, value);
      if (message->client_address.empty()) message->client_address = message->macro("client_addr");
      message_ = Message{};
      message_.protocol_doubt = message->protocol_doubt;
      step.message = std::move(message);
      awaiting_decision_ = true;
      in_message_ = true;
      return step;
    }
    case cmd::abort:
      if (in_message_ || awaiting_decision_) events_.push_back(Event::aborted);
      reset_message();
      return step;
    case cmd::quit:
      step.close = true;
      return step;
    case cmd::quit_nc:
      // The MTA's SMTP connection ended; the milter connection is kept for
      // its next one.
      reset_message();
      connection_ = Message{};
      return step;
    default:
      doubt(Event::unknown_command,
            "unknown milter command 0x" +
                std::string(1, "0123456789abcdef"[(static_cast<unsigned char>(frame.code) >> 4)]) +
                std::string(1, "0123456789abcdef"[frame.code & 0xf]) + " (not answered)",
            step);
      return step;
  }
}

std::string Session::finish(const Decision& decision) {
  finish_warning_.clear();
  const bool doubtful = message_.protocol_doubt;
  reset_message();
  if (doubtful) {
    finish_warning_ = "the message was tempfailed: its protocol exchange was not understood";
    return encode_reply_code(kDoubtReply);
  }
  switch (decision.kind) {
    case Decision::Kind::reply:
      if (!valid_reply(decision.smtp_reply)) {
        finish_warning_ = "not an SMTP 4xx/5xx reply: " + decision.smtp_reply.substr(0, 80);
        return encode_reply_code(kDoubtReply);
      }
      return encode_reply_code(decision.smtp_reply);
    case Decision::Kind::discard:
      return encode(reply::discard);
    case Decision::Kind::accept:
      break;
  }
  std::uint32_t needed = decision.quarantine ? action::quarantine : 0;
  for (const auto& change : decision.changes) needed |= action_needed(change.kind);
  if ((needed & negotiated_.actions) != needed) {
    events_.push_back(Event::disallowed_change);
    finish_warning_ =
        "the MTA does not allow the modifications this message needs (actions offered 0x" +
        std::to_string(negotiated_.actions) + "); tempfailed";
    return encode_reply_code(kDisallowedReply);
  }
  std::string out;
  for (const auto& change : decision.changes) {
    switch (change.kind) {
      case Change::Kind::add_header:
        out += encode_add_header(change.name, header_value(change.value));
        break;
      case Change::Kind::insert_header:
        out += encode_insert_header(change.index, change.name, header_value(change.value));
        break;
      case Change::Kind::change_header:
        out += encode_change_header(change.index, change.name,
                                    change.value.empty() ? "" : header_value(change.value));
        break;
      case Change::Kind::add_recipient:
        out += encode_add_recipient(change.name);
        break;
      case Change::Kind::delete_recipient:
        out += encode_delete_recipient(change.name);
        break;
    }
  }
  if (decision.quarantine) out += encode_quarantine(*decision.quarantine);
  out += encode(reply::accept);
  return out;
}

}  // namespace cordon::milter
