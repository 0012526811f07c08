// TCP reassembly under cordon's own connection table (see capture.hpp).
//
// Each direction keeps its stream position as a 64-bit offset: the first
// sequence number seen, plus 2^32 so that a segment from slightly before it
// never goes negative; later sequence numbers are unwrapped relative to the
// next expected offset, so wrap-around is invisible above this file.
// Bytes ahead of that offset wait in an ordered map until the hole before
// them fills, the peer acknowledges past the hole (it was lost to the
// capture: a gap), or a memory limit or the connection's end forces it.
#include <algorithm>
#include <cstring>
#include <list>
#include <map>
#include <unordered_map>

#include "capture/capture.hpp"
#include "capture/detail/decode.hpp"

namespace cordon::capture {
namespace {

constexpr std::uint64_t kOffsetBias = 1ull << 32;
// An acknowledgement this far past what we have is not about data we missed.
constexpr std::uint64_t kMaxAckJump = 1ull << 30;

struct Direction {
  bool started = false;
  std::uint64_t next = 0;  // offset of the next byte to deliver
  std::map<std::uint64_t, std::string> pending;
  std::size_t pending_bytes = 0;
  bool fin = false;
  std::uint64_t fin_at = 0;
  bool has_isn = false;  // a SYN was seen; a SYN with another number is a new connection
  std::uint32_t isn = 0;

  std::uint64_t unwrap(std::uint32_t seq) const {
    const auto delta = static_cast<std::int32_t>(seq - static_cast<std::uint32_t>(next));
    return next + static_cast<std::int64_t>(delta);
  }
  bool finished() const { return fin && next >= fin_at && pending.empty(); }
};

struct FlowKey {
  Endpoint a, b;  // a < b
  bool operator==(const FlowKey&) const = default;
};

bool less(const Endpoint& x, const Endpoint& y) {
  const int c = std::memcmp(x.address.bytes.data(), y.address.bytes.data(), 16);
  if (c != 0) return c < 0;
  if (x.address.v6 != y.address.v6) return x.address.v6 < y.address.v6;
  return x.port < y.port;
}

FlowKey key_of(const Endpoint& x, const Endpoint& y) {
  return less(x, y) ? FlowKey{x, y} : FlowKey{y, x};
}

struct FlowHash {
  std::size_t operator()(const FlowKey& k) const {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const Endpoint& e) {
      for (auto b : e.address.bytes) h = (h ^ b) * 1099511628211ull;
      h = (h ^ e.port) * 1099511628211ull;
    };
    mix(k.a);
    mix(k.b);
    return static_cast<std::size_t>(h);
  }
};

struct Connection {
  ConnectionInfo info;
  std::unique_ptr<StreamHandler> handler;
  Direction dir[2];  // indexed by Side
  Timestamp last_seen{0};
  std::list<Connection*>::iterator lru;
  Direction& of(Side s) { return dir[static_cast<int>(s)]; }
};

Side other(Side s) {
  return s == Side::client ? Side::server : Side::client;
}

}  // namespace

std::string Address::to_string() const {
  char buf[64];
  if (!v6) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
    return buf;
  }
  // RFC 5952 form: lower case, the longest run of zero groups as "::".
  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i)
    g[i] = static_cast<std::uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i > 1) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

std::string Endpoint::to_string() const {
  return address.v6 ? "[" + address.to_string() + "]:" + std::to_string(port)
                    : address.to_string() + ":" + std::to_string(port);
}

std::string_view to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::fin:
      return "fin";
    case CloseReason::rst:
      return "rst";
    case CloseReason::idle:
      return "idle";
    case CloseReason::evicted:
      return "evicted";
    case CloseReason::end_of_capture:
      return "end of capture";
  }
  return "unknown";
}

struct Reassembler::Impl {
  Impl(Limits l, std::vector<std::uint16_t> ports, StreamFactory f)
      : limits(l),
        server_ports(std::move(ports)),
        factory(std::move(f)),
        decoder(l.max_fragment_bytes) {}

  Limits limits;
  std::vector<std::uint16_t> server_ports;
  StreamFactory factory;
  detail::Decoder decoder;
  Stats stats;
  std::unordered_map<FlowKey, std::unique_ptr<Connection>, FlowHash> table;
  std::list<Connection*> lru;  // most recently active first
  std::size_t buffered = 0;
  std::uint64_t next_id = 1;
  Timestamp last_sweep{0};
  detail::Segment segment;

  bool is_server_port(std::uint16_t port) const {
    return std::find(server_ports.begin(), server_ports.end(), port) != server_ports.end();
  }

  void feed(const Frame& frame) {
    ++stats.packets;
    stats.bytes += frame.data.size();
    if (frame.wire_length > frame.data.size()) ++stats.truncated;
    const auto result = decoder.decode(frame, segment, stats);
    if (result == detail::DecodeResult::undecodable) ++stats.undecodable;
    if (result == detail::DecodeResult::segment) handle(segment, frame.time);
    if (frame.time >= last_sweep + std::chrono::seconds(1)) {
      last_sweep = frame.time;
      expire(frame.time);
    }
  }

  void handle(detail::Segment& s, Timestamp time) {
    if (!server_ports.empty() && !is_server_port(s.source.port) &&
        !is_server_port(s.destination.port))
      return;
    const FlowKey key = key_of(s.source, s.destination);
    auto it = table.find(key);
    Connection* c = it == table.end() ? nullptr : it->second.get();
    if (c && s.syn && !s.ack_flag) {
      // A new SYN on a known 4-tuple: the port was reused.
      Direction& d = c->info.client == s.source ? c->of(Side::client) : c->of(Side::server);
      if (!d.has_isn || d.isn != s.seq) {
        close(*c, CloseReason::fin, time);
        c = nullptr;
      }
    }
    if (!c) {
      // Only a SYN or a segment with data opens a connection: bare ACKs and
      // resets after the end are the tail of one already closed.
      if (!s.syn && s.payload.empty()) return;
      c = open(key, s, time);
    }
    ++stats.tcp_segments;
    c->last_seen = time;
    lru.splice(lru.begin(), lru, c->lru);
    const Side from = c->info.client == s.source ? Side::client : Side::server;
    Direction& d = c->of(from);
    if (s.syn) {
      d.has_isn = true;
      d.isn = s.seq;
      if (!d.started) {
        d.started = true;
        d.next = kOffsetBias + s.seq + 1ull;
      }
    } else if (!d.started && !s.payload.empty()) {
      d.started = true;
      d.next = kOffsetBias + s.seq;
    }
    if (d.started && !s.payload.empty())
      add_data(*c, from, d.unwrap(s.seq) + (s.syn ? 1 : 0), s.payload, time);
    if (d.started && s.fin && !d.fin) {
      d.fin = true;
      d.fin_at = d.unwrap(s.seq) + (s.syn ? 1 : 0) + s.payload.size();
    }
    if (s.ack_flag) acknowledged(*c, other(from), s.ack, time);
    if (s.rst) {
      flush(*c, Side::client, time);
      flush(*c, Side::server, time);
      close(*c, CloseReason::rst, time);
      return;
    }
    if (done(*c)) close(*c, CloseReason::fin, time);
  }

  Connection* open(const FlowKey& key, const detail::Segment& s, Timestamp time) {
    if (table.size() >= limits.max_connections && !lru.empty()) {
      ++stats.evicted;
      Connection* victim = lru.back();
      flush(*victim, Side::client, time);
      flush(*victim, Side::server, time);
      close(*victim, CloseReason::evicted, time);
    }
    auto owned = std::make_unique<Connection>();
    Connection* c = owned.get();
    bool source_is_client;
    if (s.syn)
      source_is_client = !s.ack_flag;
    else if (is_server_port(s.destination.port) != is_server_port(s.source.port))
      source_is_client = is_server_port(s.destination.port);
    else
      source_is_client = s.source.port > s.destination.port;
    c->info.id = next_id++;
    c->info.client = source_is_client ? s.source : s.destination;
    c->info.server = source_is_client ? s.destination : s.source;
    c->info.midstream = !s.syn;
    c->info.start = time;
    c->last_seen = time;
    lru.push_front(c);
    c->lru = lru.begin();
    table.emplace(key, std::move(owned));
    ++stats.connections;
    c->handler = factory ? factory(c->info) : nullptr;
    return c;
  }

  void deliver(Connection& c, Side side, std::string_view bytes, Timestamp time) {
    stats.payload_bytes += bytes.size();
    if (c.handler) c.handler->data(side, bytes, time);
  }

  void report_gap(Connection& c, Side side, std::uint64_t bytes, Timestamp time) {
    ++stats.gaps;
    stats.gap_bytes += bytes;
    if (c.handler) c.handler->gap(side, bytes, time);
  }

  // Delivers what now follows `next` without a hole.
  void drain(Connection& c, Side side, Timestamp time) {
    Direction& d = c.of(side);
    while (!d.pending.empty()) {
      auto first = d.pending.begin();
      if (first->first > d.next) break;
      std::string bytes = std::move(first->second);
      const std::uint64_t start = first->first;
      d.pending.erase(first);
      d.pending_bytes -= bytes.size();
      buffered -= bytes.size();
      const std::uint64_t end = start + bytes.size();
      if (end <= d.next) continue;
      deliver(c, side, std::string_view(bytes).substr(d.next - start), time);
      d.next = end;
    }
  }

  // Skips the hole before the first buffered segment (a gap) and drains.
  void skip_hole(Connection& c, Side side, std::uint64_t upto, Timestamp time) {
    Direction& d = c.of(side);
    while (d.next < upto) {
      std::uint64_t hole_end = upto;
      if (!d.pending.empty()) hole_end = std::min(hole_end, d.pending.begin()->first);
      if (hole_end > d.next) {
        report_gap(c, side, hole_end - d.next, time);
        d.next = hole_end;
      }
      drain(c, side, time);
      if (d.pending.empty() && d.next >= upto) break;
    }
  }

  // Everything buffered is delivered, holes reported as gaps.
  void flush(Connection& c, Side side, Timestamp time) {
    Direction& d = c.of(side);
    if (d.pending.empty()) return;
    const auto last = std::prev(d.pending.end());
    skip_hole(c, side, last->first + last->second.size(), time);
  }

  void add_data(Connection& c, Side side, std::uint64_t start, std::string_view payload,
                Timestamp time) {
    Direction& d = c.of(side);
    std::uint64_t end = start + payload.size();
    if (end <= d.next) {
      stats.retransmitted_bytes += payload.size();
      return;
    }
    std::string_view bytes = payload;
    if (start < d.next) {
      stats.retransmitted_bytes += d.next - start;
      bytes.remove_prefix(d.next - start);
      start = d.next;
    }
    if (start == d.next && (d.pending.empty() || d.pending.begin()->first >= end)) {
      deliver(c, side, bytes, time);
      d.next = end;
      drain(c, side, time);
      return;
    }
    insert(d, start, bytes);
    drain(c, side, time);
    if (d.pending_bytes > limits.max_buffered_per_direction) {
      ++stats.buffer_overflows;
      skip_hole(c, side, d.pending.begin()->first, time);
    }
    if (buffered > limits.max_buffered_total) shed(time);
  }

  // Adds [start, start+bytes) to the out-of-order buffer; where it overlaps
  // bytes already buffered, those stay (first data wins) and differing
  // bytes are counted.
  void insert(Direction& d, std::uint64_t start, std::string_view bytes) {
    const std::uint64_t end = start + bytes.size();
    std::uint64_t pos = start;
    auto it = d.pending.upper_bound(start);
    if (it != d.pending.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second.size() > start) it = prev;
    }
    std::vector<std::pair<std::uint64_t, std::string>> pieces;
    while (pos < end) {
      if (it == d.pending.end() || it->first >= end) {
        pieces.emplace_back(pos, std::string(bytes.substr(pos - start)));
        break;
      }
      const std::uint64_t s = it->first, e = s + it->second.size();
      if (s > pos) pieces.emplace_back(pos, std::string(bytes.substr(pos - start, s - pos)));
      // The overlap [max(pos,s), min(end,e)): compare, keep the old bytes.
      const std::uint64_t o1 = std::max(pos, s), o2 = std::min(end, e);
      for (std::uint64_t i = o1; i < o2; ++i)
        if (it->second[i - s] != bytes[i - start]) ++stats.conflicting_bytes;
      stats.retransmitted_bytes += o2 > o1 ? o2 - o1 : 0;
      pos = std::max(pos, e);
      ++it;
    }
    for (auto& [at, piece] : pieces) {
      d.pending_bytes += piece.size();
      buffered += piece.size();
      d.pending.emplace(at, std::move(piece));
    }
  }

  void acknowledged(Connection& c, Side side, std::uint32_t ack, Timestamp time) {
    Direction& d = c.of(side);
    if (!d.started) return;
    std::uint64_t upto = d.unwrap(ack);
    if (upto <= d.next || upto - d.next > kMaxAckJump) return;
    if (d.fin && upto > d.fin_at) upto = d.fin_at;
    if (upto > d.next) skip_hole(c, side, upto, time);
  }

  bool done(Connection& c) {
    const Direction& cl = c.of(Side::client);
    const Direction& sv = c.of(Side::server);
    const bool client_done = cl.finished() || !cl.started;
    const bool server_done = sv.finished() || !sv.started;
    return client_done && server_done && (cl.finished() || sv.finished());
  }

  // Past the total memory limit: the connection holding most gives it up.
  void shed(Timestamp time) {
    while (buffered > limits.max_buffered_total) {
      Connection* worst = nullptr;
      std::size_t most = 0;
      for (auto& [key, conn] : table) {
        const std::size_t held = conn->dir[0].pending_bytes + conn->dir[1].pending_bytes;
        if (held > most) most = held, worst = conn.get();
      }
      if (!worst) return;
      ++stats.buffer_overflows;
      flush(*worst, Side::client, time);
      flush(*worst, Side::server, time);
    }
  }

  void close(Connection& c, CloseReason reason, Timestamp time) {
    for (auto& d : c.dir) {
      buffered -= d.pending_bytes;
      d.pending.clear();
      d.pending_bytes = 0;
    }
    if (c.handler) c.handler->close(reason, time);
    lru.erase(c.lru);
    table.erase(key_of(c.info.client, c.info.server));
  }

  void expire(Timestamp now) {
    while (!lru.empty() && lru.back()->last_seen + limits.idle_timeout < now) {
      Connection* c = lru.back();
      ++stats.idle_closed;
      flush(*c, Side::client, now);
      flush(*c, Side::server, now);
      close(*c, CloseReason::idle, now);
    }
  }

  void finish(Timestamp time) {
    while (!lru.empty()) {
      Connection* c = lru.back();
      flush(*c, Side::client, time);
      flush(*c, Side::server, time);
      close(*c, CloseReason::end_of_capture, time);
    }
  }
};

Reassembler::Reassembler(Limits limits, std::vector<std::uint16_t> server_ports,
                         StreamFactory factory)
    : impl_(std::make_unique<Impl>(limits, std::move(server_ports), std::move(factory))) {}
Reassembler::~Reassembler() = default;
void Reassembler::feed(const Frame& frame) {
  impl_->feed(frame);
}
void Reassembler::finish(Timestamp time) {
  impl_->finish(time);
}
void Reassembler::advance(Timestamp now) {
  impl_->expire(now);
}
const Stats& Reassembler::stats() const {
  return impl_->stats;
}
std::size_t Reassembler::open_connections() const {
  return impl_->table.size();
}
std::size_t Reassembler::buffered_bytes() const {
  return impl_->buffered;
}

}  // namespace cordon::capture
