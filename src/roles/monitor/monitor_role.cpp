// The monitor role: passive DLP on a live interface or a capture file
// (monitor.capture). A capture thread reads frames into the monitor engine
// (TCP reassembly and the passive SMTP observer, monitor/monitor.hpp);
// each message it hands out is judged on the worker pool with the
// inspection snapshot in force (rebuilt on reload), logged, counted and,
// when a policy fires, recorded as an incident with the action "monitored"
// in the incident store (through the durable outbox). It never blocks.
//
// A live capture needs CAP_NET_RAW (docs/configuration.md, `monitor:`).
// A capture file is read once, to its end; the role then stays idle.
#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <atomic>
#include <thread>

#include "capture/source.hpp"
#include "monitor/monitor.hpp"
#include "roles/factory.hpp"
#include "util/current.hpp"

namespace cordon::roles {
namespace {

// What the capture thread and the judging workers share.
struct MonitorContext {
  explicit MonitorContext(util::Metrics& registry) : metrics(registry) {}
  monitor::Metrics metrics;
  std::shared_ptr<incidents::IncidentStore> store;
  std::atomic<std::size_t> judging{0};
  util::Current<inspect::Snapshot> snapshot;
};

class MonitorRole : public Role {
 public:
  explicit MonitorRole(Shared& shared) : shared_(shared) {}
  ~MonitorRole() override { stop_thread(); }
  std::string_view name() const override { return "monitor"; }

  Status<std::string> start() override {
    auto config = shared_.config.get();
    if (!config->monitor) return fail(std::string("the configuration has no monitor section"));
    context_ = std::make_shared<MonitorContext>(shared_.metrics);
    context_->snapshot.set(monitor::make_snapshot(*config));
    auto store = shared_.incident_store();
    if (!store) return fail("monitor: incident store: " + store.error());
    context_->store = std::move(store).value();

    const config::MonitorConfig& m = *config->monitor;
    capture::SourceOptions options;
    options.name = m.capture;
    options.ports = m.ports;
    options.filter = m.bpf_filter;
    auto source = capture::Source::open(options);
    if (!source) return fail("monitor: " + source.error());
    source_ = std::move(source).value();
    engine_options_ = monitor::engine_options(m);
    spdlog::info("monitor capturing on {} ({}), ports {}", m.capture,
                 source_->live() ? "live" : "file", fmt_ports(m.ports));
    running_ = true;
    thread_ = std::thread([this] { capture_loop(); });
    return Ok{};
  }

  void reload(const std::shared_ptr<const config::Config>& config) override {
    if (!context_) return;
    if (!config->monitor) {
      spdlog::warn(
          "monitor: the new configuration has no monitor section; keeping the previous one");
      return;
    }
    // Filters and policies apply to messages judged from now on; the
    // capture (interface, ports, ip_filter, limits) is read at start only.
    context_->snapshot.set(monitor::make_snapshot(*config));
  }

  void shutdown() override { stop_thread(); }

  bool busy() const override {
    return running_.load() || (context_ && context_->judging.load() > 0);
  }

 private:
  static std::string fmt_ports(const std::vector<std::uint16_t>& ports) {
    std::string out;
    for (auto p : ports) out += (out.empty() ? "" : ",") + std::to_string(p);
    return out;
  }

  void capture_loop() {
    auto context = context_;
    asio::thread_pool& workers = shared_.workers;
    auto judge_on_workers = [context, &workers](monitor::SeenMessage&& seen) {
      context->judging.fetch_add(1);
      auto job = std::make_shared<monitor::SeenMessage>(std::move(seen));
      asio::post(workers, [context, job] {
        auto snapshot = context->snapshot.get();
        monitor::Record r = monitor::judge(std::move(*job), *snapshot, context->store.get());
        context->metrics.count(r);
        if (r.inspected && r.verdict.violated())
          spdlog::warn("monitor: {}", monitor::to_text(r));
        else
          spdlog::info("monitor: {}", monitor::to_text(r));
        context->judging.fetch_sub(1);
      });
    };
    const auto run =
        monitor::run_capture(*source_, engine_options_, judge_on_workers, &context->metrics);
    if (!run.read) spdlog::error("monitor: capture stopped: {}", run.read.error());
    const auto& s = run.stats;
    spdlog::info(
        "monitor: capture ended: {} packets, {} sessions, {} messages, {} gaps, {} dropped",
        s.capture.packets, s.capture.connections, s.messages, s.capture.gaps, run.dropped);
    running_ = false;
  }

  void stop_thread() {
    if (source_) source_->stop();
    if (thread_.joinable()) thread_.join();
  }

  Shared& shared_;
  std::shared_ptr<MonitorContext> context_;
  std::unique_ptr<capture::Source> source_;
  monitor::EngineOptions engine_options_;
  std::thread thread_;
  std::atomic<bool> running_{false};
};

}  // namespace

RoleResult make_monitor_role(Shared& shared) {
  return std::unique_ptr<Role>(std::make_unique<MonitorRole>(shared));
}

}  // namespace cordon::roles
