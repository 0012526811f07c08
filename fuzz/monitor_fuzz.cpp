// libFuzzer target for the monitor's packet path: TCP reassembly and the
// passive SMTP observer behind it, fed what a hostile network can put on a
// SPAN port. Each input is a list of records; most become TCP segments of
// a few connections (sequence numbers, flags, payload from the input, so
// the fuzzer explores reordering, overlaps, holes, wrap-around, FIN/RST
// anywhere and SMTP split at every byte), the rest raw frames of a random
// link type (the decoders). Invariants: no crash or hang, buffered bytes
// and connections stay within their limits, every message handed out is
// within the observer's size limit. Build and run: fuzz/run.sh 10 monitor_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "capture/capture.hpp"
#include "monitor/monitor.hpp"

namespace cap = cordon::capture;

namespace {

constexpr std::size_t kMaxConnections = 4;
constexpr std::size_t kMaxBufferedTotal = 64 * 1024;
constexpr std::size_t kMaxMessageBytes = 8 * 1024;

struct Reader {
  std::span<const std::uint8_t> in;
  bool empty() const { return in.empty(); }
  std::uint8_t u8() {
    if (in.empty()) return 0;
    const auto b = in.front();
    in = in.subspan(1);
    return b;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    n = std::min(n, in.size());
    auto out = in.first(n);
    in = in.subspan(n);
    return out;
  }
};

void put16(std::vector<std::uint8_t>& v, std::size_t at, std::uint16_t x) {
  v[at] = static_cast<std::uint8_t>(x >> 8);
  v[at + 1] = static_cast<std::uint8_t>(x);
}
void put32(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  put16(v, at, static_cast<std::uint16_t>(x >> 16));
  put16(v, at + 2, static_cast<std::uint16_t>(x));
}

// A raw IPv4 (DLT_RAW) TCP segment between 10.0.0.<c> and 10.0.0.100:25.
std::vector<std::uint8_t> segment(int connection, bool from_client, std::uint32_t seq,
                                  std::uint32_t ack, std::uint8_t flags,
                                  std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> p(40 + payload.size(), 0);
  p[0] = 0x45;
  put16(p, 2, static_cast<std::uint16_t>(p.size()));
  p[8] = 64;
  p[9] = 6;  // TCP
  const std::uint8_t client_ip[4] = {10, 0, 0, static_cast<std::uint8_t>(1 + connection)};
  const std::uint8_t server_ip[4] = {10, 0, 0, 100};
  const auto* src = from_client ? client_ip : server_ip;
  const auto* dst = from_client ? server_ip : client_ip;
  std::copy(src, src + 4, p.begin() + 12);
  std::copy(dst, dst + 4, p.begin() + 16);
  const std::uint16_t client_port = static_cast<std::uint16_t>(40000 + connection);
  put16(p, 20, from_client ? client_port : 25);
  put16(p, 22, from_client ? 25 : client_port);
  put32(p, 24, seq);
  put32(p, 28, ack);
  p[32] = 5 << 4;
  p[33] = flags;
  put16(p, 34, 65535);
  std::copy(payload.begin(), payload.end(), p.begin() + 40);
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r{{data, size}};
  cordon::monitor::EngineOptions options;
  options.ports = {25};
  options.capture.max_connections = kMaxConnections;
  options.capture.max_buffered_per_direction = 16 * 1024;
  options.capture.max_buffered_total = kMaxBufferedTotal;
  options.capture.max_fragment_bytes = 16 * 1024;
  options.capture.idle_timeout = std::chrono::seconds(30);
  options.smtp.max_line_bytes = 512;
  options.smtp.max_message_bytes = kMaxMessageBytes;
  options.smtp.max_held_bytes = 16 * 1024;
  cordon::monitor::Engine engine(options, [](cordon::monitor::SeenMessage&& seen) {
    if (seen.message.content.size() > kMaxMessageBytes) std::abort();
  });

  // Each connection's next sequence number per direction, so that most
  // segments continue a stream and the observer gets real dialogue.
  std::uint32_t next[8][2] = {};
  cap::Timestamp time{1'000'000};
  while (!r.empty()) {
    const std::uint8_t head = r.u8();
    time += cap::Timestamp(r.u8() * 1000);
    if ((head & 0xE0) == 0xE0) {  // a raw frame for the link-layer and IP decoders
      static constexpr int kLinks[] = {0, 1, 12, 14, 101, 113, 276};
      const int link = kLinks[head % 7];
      auto bytes = r.bytes(r.u8() * 2);
      cap::Frame f{link, bytes, bytes.size() + (head & 0x10 ? 7 : 0), time};
      engine.feed(f);
      continue;
    }
    const int connection = head & 7;
    const bool from_client = head & 0x08;
    std::uint8_t flags = r.u8();
    std::uint32_t& mine = next[connection][from_client ? 0 : 1];
    const std::uint32_t theirs = next[connection][from_client ? 1 : 0];
    // Mostly in order; sometimes shifted back (overlap, retransmission) or
    // ahead (a hole), sometimes near the wrap.
    const std::uint16_t jitter = r.u16();
    std::uint32_t seq = mine;
    if (head & 0x10) seq += static_cast<std::int16_t>(jitter);
    if ((flags & 0x02) && (jitter & 1)) seq = 0xFFFFFF00u + (jitter >> 8);  // SYN near the wrap
    auto payload = r.bytes(r.u8());
    if (payload.empty() && !(flags & 0x07)) flags |= 0x10;  // a bare ACK
    auto packet = segment(connection, from_client, seq, theirs, flags, payload);
    cap::Frame f{101, packet, packet.size(), time};
    engine.feed(f);
    mine = seq + static_cast<std::uint32_t>(payload.size()) + ((flags & 0x03) ? 1 : 0);
    if (engine.open_connections() > kMaxConnections) std::abort();
  }
  engine.finish(time);
  return 0;
}
