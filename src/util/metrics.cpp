// Metrics registry and Prometheus text rendering.
#include "util/metrics.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace cordon::util {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (value > 0)
    sum_micros_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = count_.load(std::memory_order_relaxed);
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

Metrics::Family& Metrics::family(std::string_view name, std::string_view help, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end())
    it = families_.emplace(std::string(name), Family{kind, std::string(help), {}, {}, {}}).first;
  // Registering one name as two kinds is a programming error, not input.
  if (it->second.kind != kind) throw std::logic_error("metric registered twice: " + std::string(name));
  return it->second;
}

Counter& Metrics::counter(std::string_view name, std::string_view help, std::string_view labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::counter).counters[std::string(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, std::string_view labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::gauge).gauges[std::string(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help,
                              std::vector<double> upper_bounds, std::string_view labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::histogram).histograms[std::string(labels)];
  if (!slot) slot = std::make_unique<Histogram>(std::move(upper_bounds));
  return *slot;
}

namespace {

std::string with_labels(std::string_view name, std::string_view labels, std::string_view extra = {}) {
  std::string all(labels);
  if (!extra.empty()) {
    if (!all.empty()) all += ',';
    all += extra;
  }
  return all.empty() ? std::string(name) : fmt::format("{}{{{}}}", name, all);
}

}  // namespace

std::string Metrics::render_prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    const char* type = fam.kind == Kind::counter ? "counter"
                       : fam.kind == Kind::gauge ? "gauge"
                                                 : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name, type);
    for (const auto& [labels, c] : fam.counters)
      out += fmt::format("{} {}\n", with_labels(name, labels), c->value());
    for (const auto& [labels, g] : fam.gauges)
      out += fmt::format("{} {}\n", with_labels(name, labels), g->value());
    for (const auto& [labels, h] : fam.histograms) {
      auto s = h->snapshot();
      for (std::size_t i = 0; i < s.bounds.size(); ++i)
        out += fmt::format("{} {}\n",
                           with_labels(name + "_bucket", labels, fmt::format("le=\"{}\"", s.bounds[i])),
                           s.cumulative[i]);
      out += fmt::format("{} {}\n", with_labels(name + "_bucket", labels, "le=\"+Inf\""),
                         s.cumulative.back());
      out += fmt::format("{} {}\n", with_labels(name + "_sum", labels), s.sum);
      out += fmt::format("{} {}\n", with_labels(name + "_count", labels), s.count);
    }
  }
  return out;
}

}  // namespace cordon::util
