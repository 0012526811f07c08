// Link-layer and IP decoding with libtins: a frame to the TCP segment it
// carries (or nothing). IPv4 fragments are held until their datagram is
// whole. Internal to the capture component.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "capture/capture.hpp"

namespace cordon::capture::detail {

struct Segment {
  Endpoint source, destination;
  std::uint32_t seq = 0, ack = 0;
  bool syn = false, ack_flag = false, fin = false, rst = false;
  // The TCP payload, inside the Decoder's last parsed packet: valid until
  // the next decode().
  std::string_view payload;
};

enum class DecodeResult { segment, not_tcp, fragment_held, undecodable };

class Decoder {
 public:
  explicit Decoder(std::size_t max_fragment_bytes);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  DecodeResult decode(const Frame& frame, Segment& out, Stats& stats);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::capture::detail
