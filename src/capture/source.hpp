// libpcap sources: a capture file (pcap or pcapng) or a live interface.
// A live capture needs CAP_NET_RAW (root, or `setcap cap_net_raw,cap_net_admin=eip`
// on the binary); opening without it fails with libpcap's message.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture.hpp"
#include "util/result.hpp"

namespace cordon::capture {

struct SourceOptions {
  std::string name;  // interface, or a file path (anything that exists as a regular file)
  // BPF filter; for live captures the default is built from the ports
  // (TCP to or from them, VLAN-tagged too, and IPv4 fragments).
  std::string filter;
  std::vector<std::uint16_t> ports;
  int snaplen = 262144;
  int buffer_bytes = 32 << 20;  // live: the kernel ring buffer
};

struct SourceStats {
  std::uint64_t received = 0;  // pcap_stats ps_recv (live)
  std::uint64_t dropped = 0;   // ps_drop + ps_ifdrop: packets the kernel or interface lost
};

class Source {
 public:
  static Result<std::unique_ptr<Source>, std::string> open(const SourceOptions& options);
  ~Source();
  bool live() const;
  // Reads until the file ends, an error, or stop(); hands each frame over.
  // Live captures wake up every 200 ms to honour stop() and call `idle`
  // (with the wall-clock time) so that the caller can expire connections.
  Status<std::string> run(const std::function<void(const Frame&)>& frame,
                          const std::function<void(Timestamp)>& idle = {});
  void stop();  // from any thread
  SourceStats stats() const;

 private:
  Source() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `name` names a capture file rather than an interface.
bool is_capture_file(const std::string& name);

// The live default filter for these ports.
std::string default_filter(const std::vector<std::uint16_t>& ports);

}  // namespace cordon::capture
