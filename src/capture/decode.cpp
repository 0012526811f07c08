// Frame decoding (see detail/decode.hpp). libtins parses the headers; link
// types it has no class for (SLL2, raw IP, BSD null) are unwrapped here to
// the IP packet inside.
#include "capture/detail/decode.hpp"

#include <tins/tins.h>

#include <cstring>

namespace cordon::capture::detail {
namespace {

constexpr int kDltNull = 0, kDltEthernet = 1, kDltRaw1 = 12, kDltRaw2 = 14, kDltRaw = 101,
              kDltLoop = 108, kDltSll = 113, kDltIpv4 = 228, kDltIpv6 = 229, kDltSll2 = 276;

Address v4(const Tins::IPv4Address& a) {
  Address out;
  const std::uint32_t be = static_cast<std::uint32_t>(a);
  std::memcpy(out.bytes.data(), &be, 4);
  return out;
}

Address v6(const Tins::IPv6Address& a) {
  Address out;
  out.v6 = true;
  std::memcpy(out.bytes.data(), a.begin(), 16);
  return out;
}

// The IP packet of a frame whose link header libtins does not parse:
// offset of the IP header and its version (4 or 6; 0 when unknown).
std::optional<std::size_t> ip_offset(int link_type, std::span<const std::uint8_t> d) {
  switch (link_type) {
    case kDltRaw:
    case kDltRaw1:
    case kDltRaw2:
    case kDltIpv4:
    case kDltIpv6:
      return 0;
    case kDltNull:
    case kDltLoop:
      return d.size() >= 4 ? std::optional<std::size_t>(4) : std::nullopt;
    case kDltSll2:
      return d.size() >= 20 ? std::optional<std::size_t>(20) : std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

struct Decoder::Impl {
  explicit Impl(std::size_t max) : max_fragment_bytes(max) {}
  std::size_t max_fragment_bytes;
  std::size_t held_fragment_bytes = 0;
  Tins::IPv4Reassembler fragments;
  std::unique_ptr<Tins::PDU> last;  // the packet the last segment's payload lies in

  // Parses the frame into a PDU chain, or null.
  std::unique_ptr<Tins::PDU> parse(const Frame& frame) {
    const auto* p = frame.data.data();
    const auto n = static_cast<std::uint32_t>(frame.data.size());
    switch (frame.link_type) {
      case kDltEthernet:
        return std::make_unique<Tins::EthernetII>(p, n);
      case kDltSll:
        return std::make_unique<Tins::SLL>(p, n);
      default:
        break;
    }
    auto offset = ip_offset(frame.link_type, frame.data);
    if (!offset || *offset >= frame.data.size()) return nullptr;
    const std::uint8_t version = p[*offset] >> 4;
    if (version == 4) return std::make_unique<Tins::IP>(p + *offset, n - *offset);
    if (version == 6) return std::make_unique<Tins::IPv6>(p + *offset, n - *offset);
    return nullptr;
  }
};

Decoder::Decoder(std::size_t max_fragment_bytes)
    : impl_(std::make_unique<Impl>(max_fragment_bytes)) {}
Decoder::~Decoder() = default;

DecodeResult Decoder::decode(const Frame& frame, Segment& out, Stats& stats) {
  std::unique_ptr<Tins::PDU>& pdu = impl_->last;
  out.payload = {};
  try {
    pdu = impl_->parse(frame);
    if (!pdu) return DecodeResult::undecodable;
    if (auto* ip = pdu->find_pdu<Tins::IP>(); ip && (ip->is_fragmented())) {
      ++stats.fragments;
      impl_->held_fragment_bytes += ip->size();
      if (impl_->held_fragment_bytes > impl_->max_fragment_bytes) {
        // Bounded: datagrams that never complete are let go all at once.
        impl_->fragments.clear_streams();
        impl_->held_fragment_bytes = ip->size();
        ++stats.fragments_dropped;
      }
      const auto status = impl_->fragments.process(*pdu);
      if (status == Tins::IPv4Reassembler::FRAGMENTED) return DecodeResult::fragment_held;
      impl_->held_fragment_bytes =
          impl_->held_fragment_bytes > ip->size() ? impl_->held_fragment_bytes - ip->size() : 0;
    }
    auto* tcp = pdu->find_pdu<Tins::TCP>();
    if (!tcp) return DecodeResult::not_tcp;
    if (auto* ip = pdu->find_pdu<Tins::IP>()) {
      out.source.address = v4(ip->src_addr());
      out.destination.address = v4(ip->dst_addr());
    } else if (auto* ip6 = pdu->find_pdu<Tins::IPv6>()) {
      out.source.address = v6(ip6->src_addr());
      out.destination.address = v6(ip6->dst_addr());
    } else {
      return DecodeResult::not_tcp;
    }
    out.source.port = tcp->sport();
    out.destination.port = tcp->dport();
    out.seq = tcp->seq();
    out.ack = tcp->ack_seq();
    const auto flags = static_cast<unsigned>(tcp->flags());
    out.syn = flags & Tins::TCP::SYN;
    out.ack_flag = flags & Tins::TCP::ACK;
    out.fin = flags & Tins::TCP::FIN;
    out.rst = flags & Tins::TCP::RST;
    if (auto* raw = tcp->find_pdu<Tins::RawPDU>()) {
      const auto& bytes = raw->payload();
      out.payload = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    return DecodeResult::segment;
  } catch (const std::exception&) {
    return DecodeResult::undecodable;
  }
}

}  // namespace cordon::capture::detail
