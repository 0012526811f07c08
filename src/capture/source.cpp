// libpcap sources (see source.hpp).
#include "capture/source.hpp"

#include <pcap/pcap.h>
#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace cordon::capture {

struct Source::Impl {
  std::unique_ptr<char[]> file_buffer;  // outlives handle (closed in ~Impl first)
  pcap_t* handle = nullptr;
  bool live = false;
  int link_type = 1;
  std::atomic<bool> stopping{false};
  ~Impl() {
    if (handle) pcap_close(handle);
  }
};

bool is_capture_file(const std::string& name) {
  struct stat st {};
  return ::stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string default_filter(const std::vector<std::uint16_t>& ports) {
  std::string tcp;
  for (auto p : ports) tcp += (tcp.empty() ? "tcp port " : " or tcp port ") + std::to_string(p);
  if (tcp.empty()) tcp = "tcp";
  // Non-first IPv4 fragments carry no ports; `vlan` shifts the offsets of
  // what follows it, so it comes last.
  return "(" + tcp + ") or (ip[6:2] & 0x1fff != 0) or (vlan and (" + tcp + "))";
}

Result<std::unique_ptr<Source>, std::string> Source::open(const SourceOptions& options) {
  std::unique_ptr<Source> source(new Source());
  source->impl_ = std::make_unique<Impl>();
  Impl& impl = *source->impl_;
  char error[PCAP_ERRBUF_SIZE] = {0};
  if (is_capture_file(options.name)) {
    // Read through a 1 MiB stdio buffer: libpcap's reads are per record,
    // and the default buffer would make one system call per few packets.
    std::FILE* file = std::fopen(options.name.c_str(), "rb");
    if (!file) return fail(options.name + ": " + std::strerror(errno));
    constexpr std::size_t kBuffer = 1 << 20;
    impl.file_buffer = std::make_unique<char[]>(kBuffer);
    std::setvbuf(file, impl.file_buffer.get(), _IOFBF, kBuffer);
    impl.handle =
        pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_MICRO, error);
    if (!impl.handle) {
      std::fclose(file);
      return fail(options.name + ": " + error);
    }
  } else {
    impl.live = true;
    impl.handle = pcap_create(options.name.c_str(), error);
    if (!impl.handle) return fail(options.name + ": " + error);
    pcap_set_snaplen(impl.handle, options.snaplen);
    pcap_set_promisc(impl.handle, 1);
    pcap_set_timeout(impl.handle, 200);
    pcap_set_buffer_size(impl.handle, options.buffer_bytes);
    const int rc = pcap_activate(impl.handle);
    if (rc < 0) {
      std::string why = pcap_geterr(impl.handle);
      if (rc == PCAP_ERROR_PERM_DENIED)
        why +=
            " (live capture needs CAP_NET_RAW: run as root or "
            "`setcap cap_net_raw,cap_net_admin=eip` on the cordon binary)";
      return fail("cannot capture on " + options.name + ": " + why);
    }
  }
  impl.link_type = pcap_datalink(impl.handle);
  const std::string filter = !options.filter.empty() ? options.filter
                             : impl.live             ? default_filter(options.ports)
                                                     : "";
  if (!filter.empty()) {
    bpf_program program{};
    if (pcap_compile(impl.handle, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      return fail("capture filter '" + filter + "': " + pcap_geterr(impl.handle));
    const int rc = pcap_setfilter(impl.handle, &program);
    pcap_freecode(&program);
    if (rc != 0) return fail("capture filter '" + filter + "': " + pcap_geterr(impl.handle));
  }
  return source;
}

Source::~Source() = default;

bool Source::live() const {
  return impl_->live;
}

namespace {

struct Dispatch {
  const std::function<void(const Frame&)>* frame;
  Frame f;
};

void on_packet(u_char* user, const pcap_pkthdr* header, const u_char* data) {
  auto* d = reinterpret_cast<Dispatch*>(user);
  d->f.data = std::span<const std::uint8_t>(data, header->caplen);
  d->f.wire_length = header->len;
  d->f.time =
      std::chrono::seconds(header->ts.tv_sec) + std::chrono::microseconds(header->ts.tv_usec);
  (*d->frame)(d->f);
}

}  // namespace

Status<std::string> Source::run(const std::function<void(const Frame&)>& frame,
                                const std::function<void(Timestamp)>& idle) {
  Dispatch d{&frame, {}};
  d.f.link_type = impl_->link_type;
  auto* user = reinterpret_cast<u_char*>(&d);
  if (!impl_->live) {
    // A file: read to its end (or stop()).
    const int rc = pcap_loop(impl_->handle, -1, on_packet, user);
    if (rc == -1) return fail(std::string(pcap_geterr(impl_->handle)));
    return Ok{};
  }
  // Live: non-blocking reads and a poll that wakes every 200 ms, so that
  // stop() is honoured and `idle` runs even when no packet comes.
  char error[PCAP_ERRBUF_SIZE] = {0};
  if (pcap_setnonblock(impl_->handle, 1, error) != 0) return fail(std::string(error));
  const int fd = pcap_get_selectable_fd(impl_->handle);
  auto last_idle = std::chrono::steady_clock::now();
  while (!impl_->stopping.load()) {
    const int n = pcap_dispatch(impl_->handle, -1, on_packet, user);
    if (n == PCAP_ERROR_BREAK) break;
    if (n < 0) return fail(std::string(pcap_geterr(impl_->handle)));
    const auto now = std::chrono::steady_clock::now();
    if (idle && now - last_idle >= std::chrono::milliseconds(200)) {
      last_idle = now;
      idle(std::chrono::duration_cast<Timestamp>(
          std::chrono::system_clock::now().time_since_epoch()));
    }
    if (n == 0 && fd >= 0) {
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, 1, 200);
    }
  }
  return Ok{};
}

void Source::stop() {
  impl_->stopping.store(true);
  pcap_breakloop(impl_->handle);
}

SourceStats Source::stats() const {
  SourceStats out;
  if (!impl_->live) return out;
  pcap_stat st{};
  if (pcap_stats(impl_->handle, &st) == 0) {
    out.received = st.ps_recv;
    out.dropped = static_cast<std::uint64_t>(st.ps_drop) + st.ps_ifdrop;
  }
  return out;
}

}  // namespace cordon::capture
