// Passive DLP on captured SMTP traffic, shared by `cordon monitor --pcap`
// and the monitor role: frames go through TCP reassembly (capture/) into a
// passive SMTP observer per connection (smtp/observer.hpp); each message it
// hands out is filtered (ip_filter, then the L7 sender and recipient
// filters) and judged by the same inspection pipeline as prevent
// (inspect::inspect), its incident recorded with the action "monitored".
// Nothing is ever blocked: a record says what the policies would have done.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/capture.hpp"
#include "capture/source.hpp"
#include "config/config.hpp"
#include "incidents/store.hpp"
#include "inspect/inspect.hpp"
#include "policy/ip_filter.hpp"
#include "smtp/observer.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"

namespace cordon::monitor {

struct EngineOptions {
  std::vector<std::uint16_t> ports = {25, 587};
  policy::IpFilter ip_filter;
  capture::Limits capture;
  smtp::ObserverLimits smtp;
};

// The options of a `monitor:` section (its ip_filter was checked by the loader).
EngineOptions engine_options(const config::MonitorConfig& config);

// One SMTP message as it went over the wire.
struct SeenMessage {
  capture::Timestamp time{0};  // capture time of the reply to its end (or of the last byte seen)
  std::uint64_t connection = 0;
  capture::Endpoint client, server;
  bool midstream = false;  // the capture began inside the connection
  smtp::ObservedMessage message;
  policy::IpDecision ip;
};

// Packet counts and the reassembly's and observers' findings, for metrics.
struct EngineStats {
  capture::Stats capture;
  std::uint64_t messages = 0;
  std::uint64_t encrypted_sessions = 0;
  std::uint64_t incomplete_messages = 0;
  std::uint64_t long_lines = 0;
  std::uint64_t unanswered_commands = 0;
  std::uint64_t resyncs = 0;
};

// Frames in, messages out (in the order their end was seen). Not thread-safe.
class Engine {
 public:
  Engine(EngineOptions options, std::function<void(SeenMessage&&)> sink);
  ~Engine();
  void feed(const capture::Frame& frame);
  void finish(capture::Timestamp time);  // closes every connection
  void advance(capture::Timestamp now);  // expires idle connections without a packet
  EngineStats stats() const;
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What reading one capture came to.
struct CaptureRun {
  Status<std::string> read =
      Ok{};  // an error: the capture stopped early (what was read was handed out)
  EngineStats stats;
  std::uint64_t dropped = 0;  // frames the kernel dropped (live captures)
};

struct Metrics;

// Reads `source` until its end or source.stop() through one Engine, handing
// each message to `sink` on the calling thread; a quiet live capture still
// expires idle connections. `metrics` (may be null) is kept up to date as
// it goes. `cordon monitor --pcap` and the role's capture thread.
CaptureRun run_capture(capture::Source& source, EngineOptions options,
                       std::function<void(SeenMessage&&)> sink, Metrics* metrics);

// A judged message.
struct Record {
  SeenMessage seen;
  bool inspected = false;
  std::string filter;  // the decision and which mask made it
  inspect::Disposition disposition = inspect::Disposition::ignored;
  policy::Verdict verdict;
  std::optional<std::int64_t> incident;  // the id, when one was recorded
  std::string incident_reference;        // the outbox reference, when the store was down
  bool repeated = false;
  std::vector<mime::Problem> problems;
  std::string subject;
  std::string
      error;  // the message could not be judged (disposition failed / scan_failed / unparsable)
};

// The inspection snapshot for the monitor: the configuration's pipeline
// options with monitor.filters and incidents recorded as "monitored".
std::shared_ptr<const inspect::Snapshot> make_snapshot(const config::Config& config);

// Filters and inspects one message. `store` may be null: no incident.
Record judge(SeenMessage seen, const inspect::Snapshot& snapshot, incidents::IncidentStore* store);

// The `cordon monitor --format json` object (docs/formats.md).
nlohmann::json to_json(const Record& record);
// One line plus indented details, for --format text and the role's log.
std::string to_text(const Record& record);

// The role's and the CLI's metrics, registered once in a registry.
struct Metrics {
  explicit Metrics(util::Metrics& registry);
  // Brings the counters up to the engine's totals (they only grow).
  void update(const EngineStats& stats, std::uint64_t dropped);
  void count(const Record& record);
  util::Counter& packets;
  util::Counter& bytes;
  util::Counter& sessions;
  util::Counter& messages;  // result="all"
  util::Counter& inspected;
  util::Counter& ignored;
  util::Counter& encrypted;
  util::Counter& incomplete;
  util::Counter& gaps;
  util::Counter& drops;
  util::Counter& undecodable;
  util::Counter& incidents;
  util::Counter& errors;

 private:
  EngineStats last_;
  std::uint64_t last_dropped_ = 0;
};

}  // namespace cordon::monitor
