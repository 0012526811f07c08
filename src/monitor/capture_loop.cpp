// One capture read through the monitor engine (see monitor.hpp, run_capture).
#include <algorithm>

#include "monitor/monitor.hpp"

namespace cordon::monitor {

CaptureRun run_capture(capture::Source& source, EngineOptions options,
                       std::function<void(SeenMessage&&)> sink, Metrics* metrics) {
  Engine engine(std::move(options), std::move(sink));
  capture::Timestamp last{0};
  std::uint64_t frames = 0;
  auto refresh = [&] {
    if (metrics) metrics->update(engine.stats(), source.stats().dropped);
  };
  CaptureRun run;
  run.read = source.run(
      [&](const capture::Frame& f) {
        last = std::max(last, f.time);
        engine.feed(f);
        if (++frames % 1024 == 0) refresh();
      },
      [&](capture::Timestamp now) {
        // Capture time, not wall time, decides idleness; a live capture's
        // wake-up carries the wall clock, which is capture time there.
        if (now > last) engine.advance(now);
        refresh();
      });
  engine.finish(last);
  refresh();
  run.stats = engine.stats();
  run.dropped = source.stats().dropped;
  return run;
}

}  // namespace cordon::monitor
