// The DLP pool's failover and bypass decision (rules in dlp_pool.hpp).
#include "queue/dlp_pool.hpp"

#include <chrono>

#include <fmt/format.h>

namespace cordon::queue {
namespace {

// A multi-line reply on one line, for log lines and trace details.
std::string one_line(const smtp::Reply& reply) {
  std::string out;
  for (const auto& line : reply.lines) out += (out.empty() ? "" : " / ") + line;
  return out;
}

struct HostReport {
  std::string host;
  smtp::DeliveryResult result;
};

std::string describe(const HostReport& r) {
  switch (r.result.outcome) {
    case smtp::DeliveryOutcome::connect_failed:
      return fmt::format("{}: no TCP connection ({})", r.host, r.result.detail);
    case smtp::DeliveryOutcome::timed_out:
      return fmt::format("{}: session timed out at {}", r.host, smtp::to_string(r.result.stage));
    case smtp::DeliveryOutcome::tls_failed:
      return fmt::format("{}: TLS not negotiated ({})", r.host, r.result.detail);
    default:
      return fmt::format("{}: {}", r.host, one_line(r.result.reply));
  }
}

std::string join(const std::vector<HostReport>& reports) {
  std::string out;
  for (const auto& r : reports) {
    if (!out.empty()) out += "; ";
    out += describe(r);
  }
  return out;
}

std::string reply_detail(const std::string& host, const smtp::DeliveryResult& r) {
  if (r.reply.code == 0) return fmt::format("{}: {}", host, r.detail);
  return fmt::format("{} said at {}: {} {}", host, smtp::to_string(r.stage), r.reply.code,
                     one_line(r.reply));
}

}  // namespace

std::string_view to_string(DlpOutcome outcome) {
  switch (outcome) {
    case DlpOutcome::passed:
      return "passed";
    case DlpOutcome::deferred:
      return "deferred";
    case DlpOutcome::bounced:
      return "bounced";
    case DlpOutcome::bypass:
      return "bypass";
    case DlpOutcome::fail_closed:
      return "fail_closed";
  }
  return "?";
}

std::string DlpHost::to_string() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

smtp::ClientOptions dlp_client_options(const DlpPoolOptions& pool, const std::string& helo_name) {
  smtp::ClientOptions options;
  options.helo_name = helo_name;
  options.tls = pool.tls;
  auto& t = options.timeouts;
  t.connect = pool.connect_timeout;
  t.greeting = t.helo = t.starttls = t.mail = t.rcpt = t.data = t.data_end = t.quit =
      pool.session_timeout;
  return options;
}

smtp::ClientOptions dlp_client_options(const DlpPoolOptions& pool, const std::string& helo_name,
                                       const DlpHost& host) {
  auto options = dlp_client_options(pool, helo_name);
  if (pool.tls_context) {
    options.tls_context = pool.tls_context;
    options.tls_server_name = pool.tls_server_name.empty() ? host.host : pool.tls_server_name;
  }
  return options;
}

asio::awaitable<DlpVerdict> run_dlp_pool(const DlpPoolOptions& pool, CircuitBreakers& breakers,
                                         const DlpAttempt& attempt) {
  std::vector<HostReport> no_verdict;  // hosts tried that gave no verdict, in order
  std::vector<const DlpHost*> skipped;

  // Tries `hosts`; returns a verdict as soon as one host gives one.
  auto pass = [&](const std::vector<const DlpHost*>& hosts,
                  bool honour_breaker) -> asio::awaitable<std::optional<DlpVerdict>> {
    for (const auto* hp : hosts) {
      const std::string key = hp->to_string();
      if (honour_breaker && !breakers.allow(key, std::chrono::steady_clock::now())) {
        skipped.push_back(hp);
        continue;
      }
      smtp::DeliveryResult r = co_await attempt(*hp);
      switch (r.outcome) {
        case smtp::DeliveryOutcome::ok:
        case smtp::DeliveryOutcome::transient:
        case smtp::DeliveryOutcome::permanent: {
          breakers.record_success(key);
          DlpVerdict v;
          v.outcome = r.outcome == smtp::DeliveryOutcome::ok          ? DlpOutcome::passed
                      : r.outcome == smtp::DeliveryOutcome::transient ? DlpOutcome::deferred
                                                                      : DlpOutcome::bounced;
          v.host = key;
          v.detail = reply_detail(key, r);
          v.result = std::move(r);
          co_return v;
        }
        case smtp::DeliveryOutcome::connect_failed:
        case smtp::DeliveryOutcome::timed_out:
        case smtp::DeliveryOutcome::tls_failed:
          breakers.record_failure(key, std::chrono::steady_clock::now());
          no_verdict.push_back({key, std::move(r)});
          break;
      }
    }
    co_return std::nullopt;
  };

  std::vector<const DlpHost*> all;
  for (const auto& hp : pool.hosts) all.push_back(&hp);
  if (auto v = co_await pass(all, true)) co_return std::move(*v);
  if (!skipped.empty()) {
    // Open breakers must not turn into a bypass without a connection attempt.
    auto second = std::exchange(skipped, {});
    if (auto v = co_await pass(second, false)) co_return std::move(*v);
  }

  std::size_t timed_out = 0, tls_failed = 0;
  for (const auto& r : no_verdict) {
    if (r.result.outcome == smtp::DeliveryOutcome::timed_out) ++timed_out;
    if (r.result.outcome == smtp::DeliveryOutcome::tls_failed) ++tls_failed;
  }
  DlpVerdict v;
  v.result.outcome = smtp::DeliveryOutcome::transient;  // no host decided
  if (tls_failed > 0) {
    v.outcome = DlpOutcome::deferred;
    v.detail = "TLS to DLP is required and was not negotiated: " + join(no_verdict);
    v.result.detail = v.detail;
    co_return v;
  }
  if (timed_out > 1) {
    v.outcome = DlpOutcome::deferred;
    v.detail = "more than one DLP host accepts TCP connections but timed out: " + join(no_verdict);
    v.result.detail = v.detail;
    co_return v;
  }
  v.outcome = pool.bypass ? DlpOutcome::bypass : DlpOutcome::fail_closed;
  v.bypass_reason = timed_out == 1 ? "session_timeout" : "unreachable";
  v.detail = (timed_out == 1 ? "session timed out and no other DLP host accepts a TCP connection: "
                             : "no DLP host accepts a TCP connection: ") +
             join(no_verdict);
  v.result.detail = v.detail;
  co_return v;
}

}  // namespace cordon::queue
