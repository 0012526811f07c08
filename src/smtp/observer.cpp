// The passive SMTP observer (see observer.hpp): client bytes are split into
// commands, DATA content or BDAT chunks; server bytes into replies, each of
// which answers the oldest pending command.
#include "smtp/observer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "smtp/command.hpp"
#include "util/ascii.hpp"

namespace cordon::smtp {
namespace {

struct Chunk {
  std::size_t offset = 0, length = 0;
  int state = 0;  // 0 unanswered, 1 accepted, -1 rejected
};

// One mail transaction: from MAIL (or the first command after the last
// message) to the reply to its end.
struct Txn {
  std::string sender;
  bool sender_seen = false;
  std::vector<std::string> recipients;
  std::vector<int> recipient_state;  // as Chunk::state
  std::string content;
  bool complete = true;
  std::string incomplete;
  bool truncated = false;
  bool bdat = false;
  std::vector<Chunk> chunks;
  bool emitted = false;

  void mark_incomplete(std::string why) {
    if (complete) incomplete = std::move(why);
    complete = false;
  }
};

enum class Kind { other, helo, mail, rcpt, data, data_end, bdat, rset, starttls, auth };

struct Pending {
  Kind kind = Kind::other;
  std::shared_ptr<Txn> txn;
  std::shared_ptr<Txn> previous;  // MAIL: the transaction it replaced
  std::size_t index = 0;          // RCPT: recipient; BDAT: chunk
  bool last = false;              // BDAT LAST
};

Pending pend(Kind kind, std::shared_ptr<Txn> txn = nullptr, std::shared_ptr<Txn> previous = nullptr,
             std::size_t index = 0, bool last = false) {
  Pending p;
  p.kind = kind;
  p.txn = std::move(txn);
  p.previous = std::move(previous);
  p.index = index;
  p.last = last;
  return p;
}

enum class Mode { command, resync, data, bdat, encrypted };
enum class Dot { line_start, mid, cr, dot, dot_cr };

bool positive(int code) {
  return code >= 200 && code < 400;
}

std::string_view verb_of(std::string_view line) {
  const auto space = line.find(' ');
  return space == std::string_view::npos ? line : line.substr(0, space);
}

// A line that can only be a command, to resynchronise on.
bool well_formed_command(std::string_view line) {
  using util::iequals;
  using util::istarts_with;
  if (istarts_with(line, "MAIL FROM:") || istarts_with(line, "RCPT TO:")) return true;
  for (std::string_view bare : {"DATA", "RSET", "QUIT", "NOOP", "STARTTLS"})
    if (iequals(line, bare)) return true;
  for (std::string_view word : {"EHLO ", "HELO ", "AUTH ", "BDAT "})
    if (istarts_with(line, word) && line.size() > word.size()) return true;
  return false;
}

// The mailbox of a MAIL or RCPT line: the parser's, or what lies between
// the angle brackets of a line it refuses (the server may be laxer).
std::string path_of(std::string_view line) {
  if (auto parsed = parse_command(line)) return parsed->address;
  const auto open = line.find('<');
  const auto close = line.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) {
    const auto colon = line.find(':');
    return colon == std::string_view::npos ? std::string()
                                           : std::string(util::trim(line.substr(colon + 1)));
  }
  return std::string(line.substr(open + 1, close - open - 1));
}

}  // namespace

struct Observer::Impl {
  Impl(ObserverLimits l, bool from_start, Sink s)
      : limits(l),
        sink(std::move(s)),
        expect_greeting(from_start),
        mode(from_start ? Mode::command : Mode::resync),
        current(std::make_shared<Txn>()),
        uncertain(!from_start) {}

  ObserverLimits limits;
  Sink sink;
  ObserverStats stats;
  bool expect_greeting;
  Mode mode;
  std::shared_ptr<Txn> current;    // the transaction commands now add to
  std::shared_ptr<Txn> receiving;  // DATA content or BDAT chunk goes here
  std::deque<Pending> pending;
  bool waiting = false;         // the client bytes held mean nothing until a reply
  bool auth_line_next = false;  // a 334 asked for one line of AUTH data
  bool skip_client_line = false, skip_server_line = false;
  std::string held;  // client bytes not yet read
  std::string server_line;
  Dot dot = Dot::line_start;
  bool gap_in_data = false;
  std::uint64_t bdat_remaining = 0;
  bool encrypted_reported = false;
  std::string helo;  // of the last EHLO/HELO line
  // After a gap (or a capture begun mid-connection) replies may answer
  // commands that were never seen: a 354 finds its DATA, and a positive
  // reply that is not 354 does not answer a DATA.
  bool uncertain = false;

  // ---- client side ----

  void client_data(std::string_view bytes) {
    if (mode == Mode::encrypted) return;
    if (held.empty() && !waiting) {
      const std::size_t used = consume(bytes);
      if (used < bytes.size() && mode != Mode::encrypted) held.append(bytes.substr(used));
    } else {
      held.append(bytes);
      pump();
    }
    while (waiting && held.size() > limits.max_held_bytes) {
      answer_barrier_unseen();
      pump();
    }
  }

  void pump() {
    if (waiting || held.empty()) return;
    const std::size_t used = consume(held);
    if (mode == Mode::encrypted)
      held.clear();
    else
      held.erase(0, used);
  }

  std::size_t consume(std::string_view in) {
    std::size_t pos = 0;
    while (pos < in.size() && !waiting && mode != Mode::encrypted) {
      switch (mode) {
        case Mode::command:
        case Mode::resync: {
          const char* nl =
              static_cast<const char*>(std::memchr(in.data() + pos, '\n', in.size() - pos));
          if (!nl) {
            if (skip_client_line) return in.size();
            if (in.size() - pos > limits.max_line_bytes) {
              ++stats.long_lines;
              skip_client_line = true;
              return in.size();
            }
            return pos;
          }
          const std::size_t end = static_cast<std::size_t>(nl - in.data());
          std::string_view line = in.substr(pos, end - pos);
          pos = end + 1;
          if (skip_client_line || line.size() > limits.max_line_bytes) {
            // Too long to read, but the server answers it like any line.
            if (!skip_client_line) ++stats.long_lines;
            skip_client_line = false;
            if (mode == Mode::command) pending.push_back(pend(Kind::other));
            continue;
          }
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          command(line);
          break;
        }
        case Mode::data:
          pos += data_bytes(in.substr(pos));
          break;
        case Mode::bdat: {
          const std::size_t n =
              static_cast<std::size_t>(std::min<std::uint64_t>(bdat_remaining, in.size() - pos));
          append(*receiving, in.substr(pos, n));
          pos += n;
          bdat_remaining -= n;
          if (bdat_remaining == 0) end_chunk();
          break;
        }
        case Mode::encrypted:
          break;
      }
    }
    return pos;
  }

  void append(Txn& txn, std::string_view bytes) {
    if (txn.truncated) return;
    const std::size_t room =
        limits.max_message_bytes - std::min(limits.max_message_bytes, txn.content.size());
    if (bytes.size() > room) {
      txn.content.append(bytes.substr(0, room));
      txn.truncated = true;
      txn.mark_incomplete("larger than max_message_bytes (" +
                          std::to_string(limits.max_message_bytes) + "); the rest not inspected");
      return;
    }
    txn.content.append(bytes);
  }

  // DATA content: dot-unstuffing up to CRLF.CRLF; returns the bytes used.
  std::size_t data_bytes(std::string_view in) {
    Txn& txn = *receiving;
    std::size_t i = 0;
    while (i < in.size()) {
      switch (dot) {
        case Dot::mid: {
          const char* cr =
              static_cast<const char*>(std::memchr(in.data() + i, '\r', in.size() - i));
          const std::size_t end = cr ? static_cast<std::size_t>(cr - in.data()) : in.size();
          append(txn, in.substr(i, end - i + (cr ? 1 : 0)));
          i = end + (cr ? 1 : 0);
          if (cr) dot = Dot::cr;
          break;
        }
        case Dot::cr:
          if (in[i] == '\n') {
            append(txn, "\n");
            ++i;
            dot = Dot::line_start;
          } else {
            dot = Dot::mid;
          }
          break;
        case Dot::line_start:
          if (in[i] == '.') {
            ++i;
            dot = Dot::dot;
          } else {
            dot = Dot::mid;
          }
          break;
        case Dot::dot:
          // A leading dot followed by anything but CRLF was stuffed: dropped.
          if (in[i] == '\r') {
            ++i;
            dot = Dot::dot_cr;
          } else {
            dot = Dot::mid;
          }
          break;
        case Dot::dot_cr:
          if (in[i] == '\n') {
            end_of_data();
            return i + 1;
          }
          append(txn, "\r");
          dot = Dot::mid;
          break;
      }
    }
    return i;
  }

  void end_of_data() {
    pending.push_back(pend(Kind::data_end, receiving));
    receiving.reset();
    current = std::make_shared<Txn>();
    mode = Mode::command;
    gap_in_data = false;
  }

  void end_chunk() {
    mode = Mode::command;
    receiving.reset();
  }

  void command(std::string_view line) {
    if (mode == Mode::resync) {
      if (!well_formed_command(line)) {
        stats.skipped_client_bytes += line.size() + 2;
        return;
      }
      mode = Mode::command;
      ++stats.resyncs;
    }
    if (auth_line_next) {
      // The client's answer to a 334 challenge: skipped, never read.
      auth_line_next = false;
      pending.push_back(pend(Kind::auth));
      waiting = true;
      return;
    }
    ++stats.commands;
    const std::string_view verb = verb_of(line);
    using util::iequals;
    if (iequals(verb, "EHLO") || iequals(verb, "HELO")) {
      helo = std::string(util::trim(line.substr(verb.size())));
      if (helo.size() > 255) helo.resize(255);  // a name, not a payload
      current = std::make_shared<Txn>();
      pending.push_back(pend(Kind::helo));
    } else if (iequals(verb, "MAIL")) {
      auto txn = std::make_shared<Txn>();
      txn->sender = path_of(line);
      txn->sender_seen = true;
      pending.push_back(pend(Kind::mail, txn, current));
      current = std::move(txn);
    } else if (iequals(verb, "RCPT")) {
      current->recipients.push_back(path_of(line));
      current->recipient_state.push_back(0);
      pending.push_back(pend(Kind::rcpt, current, nullptr, current->recipients.size() - 1));
    } else if (iequals(verb, "DATA")) {
      pending.push_back(pend(Kind::data, current));
      waiting = true;
    } else if (iequals(verb, "BDAT")) {
      bdat(line);
    } else if (iequals(verb, "RSET")) {
      current = std::make_shared<Txn>();
      pending.push_back(pend(Kind::rset));
    } else if (iequals(verb, "STARTTLS")) {
      pending.push_back(pend(Kind::starttls));
      waiting = true;
    } else if (iequals(verb, "AUTH")) {
      pending.push_back(pend(Kind::auth));
      waiting = true;
    } else {
      pending.push_back(pend(Kind::other));
    }
  }

  void bdat(std::string_view line) {
    std::string_view rest = util::trim(line.substr(verb_of(line).size()));
    std::uint64_t size = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), size);
    if (ec != std::errc() || end == rest.data()) {
      pending.push_back(pend(Kind::other));  // the server refuses it too
      return;
    }
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    const bool last = util::iequals(util::trim(rest), "LAST");
    Txn& txn = *current;
    txn.bdat = true;
    txn.chunks.push_back(Chunk{txn.content.size(), 0, 0});
    pending.push_back(pend(Kind::bdat, current, nullptr, txn.chunks.size() - 1, last));
    receiving = current;
    if (last) current = std::make_shared<Txn>();
    if (size > 0) {
      mode = Mode::bdat;
      bdat_remaining = size;
    } else {
      receiving.reset();
    }
  }

  void client_gap(std::uint64_t bytes) {
    if (mode == Mode::encrypted) return;
    // What waits for a reply cannot wait for the bytes lost behind it.
    while (waiting) {
      answer_barrier_unseen();
      pump();
    }
    held.clear();
    skip_client_line = false;
    const std::string why = "gap of " + std::to_string(bytes) + " bytes";
    switch (mode) {
      case Mode::data:
        receiving->mark_incomplete(why);
        gap_in_data = true;
        dot = Dot::mid;
        break;
      case Mode::bdat:
        receiving->mark_incomplete(why);
        if (bytes < bdat_remaining) {
          bdat_remaining -= bytes;
        } else {
          end_chunk();
          mode = Mode::resync;
        }
        break;
      case Mode::command:
        mode = Mode::resync;
        break;
      default:
        break;
    }
    uncertain = true;
  }

  // ---- server side ----

  void server_data(std::string_view in) {
    if (mode == Mode::encrypted) return;
    std::size_t pos = 0;
    while (pos < in.size() && mode != Mode::encrypted) {
      const char* nl =
          static_cast<const char*>(std::memchr(in.data() + pos, '\n', in.size() - pos));
      if (!nl) {
        server_line.append(in.substr(pos));
        if (server_line.size() > limits.max_line_bytes) {
          ++stats.long_lines;
          server_line.clear();
          skip_server_line = true;
        }
        return;
      }
      const std::size_t end = static_cast<std::size_t>(nl - in.data());
      std::string_view piece = in.substr(pos, end - pos);
      pos = end + 1;
      if (skip_server_line) {
        skip_server_line = false;
        server_line.clear();
        continue;
      }
      std::string_view line = piece;
      if (!server_line.empty()) {
        server_line.append(piece);
        line = server_line;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      reply_line(line);
      server_line.clear();
    }
  }

  void reply_line(std::string_view line) {
    if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9')
      return;
    if (line.size() > 3 && line[3] == '-') return;  // continuation
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    ++stats.replies;
    if (expect_greeting) {
      expect_greeting = false;
      return;
    }
    if (pending.empty()) {
      // The end of a message whose final dot was lost in a gap.
      if (mode == Mode::data && gap_in_data && receiving) {
        auto txn = std::move(receiving);
        current = std::make_shared<Txn>();
        mode = Mode::resync;
        gap_in_data = false;
        finish(*txn, code);
      }
      return;
    }
    if (code == 354 && pending.front().kind != Kind::data) {
      const bool has_data = std::any_of(pending.begin(), pending.end(),
                                        [](const Pending& q) { return q.kind == Kind::data; });
      while (has_data && pending.front().kind != Kind::data) {
        Pending skipped = std::move(pending.front());
        pending.pop_front();
        ++stats.unanswered;
        answer(skipped, std::nullopt);
      }
    } else if (uncertain && pending.front().kind == Kind::data && code != 354 && positive(code)) {
      return;  // the reply to a command lost before this DATA
    }
    Pending p = std::move(pending.front());
    pending.pop_front();
    if (p.kind == Kind::data_end) uncertain = false;
    answer(p, code);
    pump();
  }

  void server_gap(std::uint64_t) {
    if (mode == Mode::encrypted) return;
    uncertain = true;
    server_line.clear();
    skip_server_line = false;
    // The replies lost are the oldest ones awaited: they count as positive.
    while (!pending.empty()) {
      Pending p = std::move(pending.front());
      pending.pop_front();
      ++stats.unanswered;
      answer(p, std::nullopt);
    }
    pump();
  }

  // Resolves pending commands, unseen replies counting as positive, up to
  // and including the one the client waits on.
  void answer_barrier_unseen() {
    while (waiting && !pending.empty()) {
      Pending p = std::move(pending.front());
      pending.pop_front();
      ++stats.unanswered;
      answer(p, std::nullopt);
    }
    waiting = false;
  }

  // `code`: the reply; nullopt: never seen, taken as positive.
  void answer(Pending& p, std::optional<int> code) {
    const bool ok = !code || positive(*code);
    switch (p.kind) {
      case Kind::mail:
        // A refused MAIL opens no transaction; one it tried to replace
        // (MAIL inside a transaction gets 503) goes on.
        if (!ok) {
          p.txn->sender_seen = false;
          if (current == p.txn && p.previous && p.previous->sender_seen && !p.previous->emitted)
            current = p.previous;
        }
        break;
      case Kind::rcpt:
        p.txn->recipient_state[p.index] = code ? (ok ? 1 : -1) : 0;
        break;
      case Kind::data:
        waiting = false;
        if (!code || *code == 354) {
          receiving = p.txn;
          mode = Mode::data;
          dot = Dot::line_start;
          gap_in_data = false;
        }
        break;
      case Kind::data_end:
        finish(*p.txn, code);
        break;
      case Kind::bdat:
        p.txn->chunks[p.index].state = code ? (ok ? 1 : -1) : 0;
        if (p.last) finish(*p.txn, code);
        break;
      case Kind::starttls:
        waiting = false;
        if (!code || *code == 220) go_encrypted();
        break;
      case Kind::auth:
        waiting = false;
        if (code && *code == 334) auth_line_next = true;
        break;
      case Kind::helo:
      case Kind::rset:
      case Kind::other:
        break;
    }
  }

  void go_encrypted() {
    mode = Mode::encrypted;
    held.clear();
    pending.clear();
    waiting = false;
    if (encrypted_reported) return;
    encrypted_reported = true;
    ObservedMessage m;
    m.encrypted = true;
    m.complete = false;
    m.incomplete = "encrypted (STARTTLS)";
    m.sender = current->sender;
    m.sender_seen = current->sender_seen;
    m.helo = helo;
    sink(std::move(m));
  }

  void finish(Txn& txn, std::optional<int> reply) {
    if (txn.emitted) return;
    txn.emitted = true;
    ObservedMessage m;
    m.sender = txn.sender;
    m.sender_seen = txn.sender_seen;
    m.helo = helo;
    for (std::size_t i = 0; i < txn.recipients.size(); ++i)
      if (txn.recipient_state[i] >= 0) m.recipients.push_back(txn.recipients[i]);
    m.complete = txn.complete;
    m.incomplete = txn.incomplete;
    m.bdat = txn.bdat;
    m.reply = reply;
    bool rejected_chunk = false;
    for (const auto& c : txn.chunks) rejected_chunk = rejected_chunk || c.state < 0;
    if (!rejected_chunk) {
      m.content = std::move(txn.content);
    } else {
      for (std::size_t i = 0; i < txn.chunks.size(); ++i) {
        const Chunk& c = txn.chunks[i];
        const std::size_t end =
            i + 1 < txn.chunks.size() ? txn.chunks[i + 1].offset : txn.content.size();
        if (c.state >= 0) m.content.append(txn.content, c.offset, end - c.offset);
      }
      if (m.complete) m.incomplete = "a BDAT chunk was rejected; only the accepted ones kept";
      m.complete = false;
    }
    txn.content.clear();
    sink(std::move(m));
  }

  void close(std::string_view why) {
    if (mode == Mode::encrypted) return;
    while (waiting) {
      answer_barrier_unseen();
      pump();
    }
    if ((mode == Mode::data || mode == Mode::bdat) && receiving) {
      receiving->mark_incomplete("connection closed (" + std::string(why) + ") in " +
                                 (mode == Mode::data ? "DATA" : "a BDAT chunk"));
      if (mode == Mode::data) {
        auto txn = std::move(receiving);
        finish(*txn, std::nullopt);
      }
    }
    while (!pending.empty()) {
      Pending p = std::move(pending.front());
      pending.pop_front();
      ++stats.unanswered;
      answer(p, std::nullopt);
      if (mode == Mode::data && receiving) {
        // DATA accepted unseen with nothing after it: an empty, cut message.
        receiving->mark_incomplete("connection closed (" + std::string(why) + ") in DATA");
        auto txn = std::move(receiving);
        mode = Mode::command;
        finish(*txn, std::nullopt);
      }
    }
    if (current && current->bdat && !current->emitted) {
      current->mark_incomplete("connection closed (" + std::string(why) + ") before BDAT LAST");
      finish(*current, std::nullopt);
    }
    if (receiving && receiving->bdat && !receiving->emitted) {
      receiving->mark_incomplete("connection closed (" + std::string(why) + ") in a BDAT chunk");
      finish(*receiving, std::nullopt);
    }
  }
};

Observer::Observer(ObserverLimits limits, bool from_start, Sink sink)
    : impl_(std::make_unique<Impl>(limits, from_start, std::move(sink))) {}
Observer::~Observer() = default;
Observer::Observer(Observer&&) noexcept = default;
Observer& Observer::operator=(Observer&&) noexcept = default;
void Observer::client_data(std::string_view bytes) {
  impl_->client_data(bytes);
}
void Observer::server_data(std::string_view bytes) {
  impl_->server_data(bytes);
}
void Observer::client_gap(std::uint64_t bytes) {
  impl_->client_gap(bytes);
}
void Observer::server_gap(std::uint64_t bytes) {
  impl_->server_gap(bytes);
}
void Observer::close(std::string_view why) {
  impl_->close(why);
}
bool Observer::encrypted() const {
  return impl_->mode == Mode::encrypted;
}
const ObserverStats& Observer::stats() const {
  return impl_->stats;
}

}  // namespace cordon::smtp
