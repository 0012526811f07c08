// Packets to ordered byte streams (knows no SMTP): link-layer and IP
// decoding (Ethernet, 802.1Q VLAN, Linux cooked SLL and SLL2, raw IP, BSD
// loopback; IPv4 with fragment reassembly, IPv6) and TCP reassembly per
// direction under cordon's own connection table.
//
// The reassembler delivers each direction's bytes in sequence order once,
// whatever order the segments came in: retransmissions are dropped, the
// first copy of overlapping bytes wins (a conflicting later copy is
// counted), sequence numbers wrap. A hole the peer has acknowledged (the
// segment was lost to the capture, not to the peer) is reported as a gap of
// that many bytes and delivery goes on after it. Checksums are not checked:
// a capture taken on the sending host carries offloaded, unfilled checksums.
// Time is the capture's: idle connections expire on packet timestamps.
//
// Memory is bounded: out-of-order bytes per direction
// (max_buffered_per_direction; past it the oldest hole becomes a gap), all
// buffered bytes together (max_buffered_total; past it the connection
// holding most is flushed with gaps), and the number of connections
// (max_connections; past it the least recently active one is closed).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::capture {

// Capture time: microseconds since the Unix epoch.
using Timestamp = std::chrono::microseconds;

struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // first 4 for IPv4
  std::string to_string() const;
  bool operator==(const Address&) const = default;
};

struct Endpoint {
  Address address;
  std::uint16_t port = 0;
  std::string to_string() const;  // "10.0.0.1:25", "[::1]:25"
  bool operator==(const Endpoint&) const = default;
};

enum class Side { client, server };

struct ConnectionInfo {
  std::uint64_t id = 0;  // in order of first packet, from 1
  Endpoint client, server;
  // No SYN was seen: the capture began after the connection was opened, so
  // the first bytes of each direction may start mid-dialogue.
  bool midstream = false;
  Timestamp start{0};
};

enum class CloseReason { fin, rst, idle, evicted, end_of_capture };
std::string_view to_string(CloseReason reason);

// What one connection's bytes go to; created by the StreamFactory when the
// connection is first seen, destroyed after close().
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual void data(Side from, std::string_view bytes, Timestamp time) = 0;
  // `bytes` bytes of `from`'s stream are missing (acknowledged by the peer
  // but never captured); delivery continues after them.
  virtual void gap(Side from, std::uint64_t bytes, Timestamp time) = 0;
  virtual void close(CloseReason reason, Timestamp time) = 0;
};

using StreamFactory = std::function<std::unique_ptr<StreamHandler>(const ConnectionInfo&)>;

struct Limits {
  std::size_t max_connections = 10000;
  std::size_t max_buffered_per_direction = 1 << 20;  // out-of-order bytes held
  std::size_t max_buffered_total = 256u << 20;
  std::size_t max_fragment_bytes = 16u << 20;  // IPv4 fragments waiting for the rest
  Timestamp idle_timeout = std::chrono::minutes(5);
};

struct Stats {
  std::uint64_t packets = 0;            // frames seen
  std::uint64_t bytes = 0;              // frame bytes captured
  std::uint64_t tcp_segments = 0;       // of tracked connections
  std::uint64_t payload_bytes = 0;      // delivered stream bytes
  std::uint64_t undecodable = 0;        // not IP/TCP, unknown link type, or malformed
  std::uint64_t truncated = 0;          // frames shorter on capture than on the wire
  std::uint64_t fragments = 0;          // IPv4 fragments seen
  std::uint64_t fragments_dropped = 0;  // discarded by max_fragment_bytes
  std::uint64_t connections = 0;
  std::uint64_t evicted = 0;  // closed by max_connections
  std::uint64_t idle_closed = 0;
  std::uint64_t retransmitted_bytes = 0;
  std::uint64_t conflicting_bytes = 0;  // overlapping bytes that differed (first kept)
  std::uint64_t gaps = 0;
  std::uint64_t gap_bytes = 0;
  std::uint64_t buffer_overflows = 0;  // holes declared gaps by a memory limit
};

// One link-layer frame as libpcap hands it over.
struct Frame {
  int link_type = 1;  // DLT_* (1 Ethernet, 113 Linux SLL, 276 SLL2, 101/12/14 raw, 0 null)
  std::span<const std::uint8_t> data;
  std::size_t wire_length = 0;  // original length; > data.size() when truncated
  Timestamp time{0};
};

class Reassembler {
 public:
  // `server_ports`: only TCP segments to or from these ports are tracked
  // (empty: all); they also tell the server side of a connection whose
  // SYN was not seen.
  Reassembler(Limits limits, std::vector<std::uint16_t> server_ports, StreamFactory factory);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  void feed(const Frame& frame);
  // Capture time moved on without a packet (a quiet live capture): idle
  // connections expire.
  void advance(Timestamp now);
  // Closes every connection (end of a capture file, or shutdown).
  void finish(Timestamp time);
  const Stats& stats() const;
  std::size_t open_connections() const;
  std::size_t buffered_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::capture
