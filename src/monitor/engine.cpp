// Frames to SMTP messages (see monitor.hpp): the reassembler's connections
// each feed a passive SMTP observer; the ip filter is decided per connection.
#include "monitor/monitor.hpp"

namespace cordon::monitor {

EngineOptions engine_options(const config::MonitorConfig& config) {
  EngineOptions o;
  o.ports = config.ports;
  if (auto parsed = policy::parse_ip_filter(config.ip_filter))
    o.ip_filter = std::move(parsed).value();
  o.capture.max_connections = config.max_connections;
  o.capture.max_buffered_per_direction = config.max_buffered_per_connection;
  o.capture.max_buffered_total = config.max_buffered_total;
  o.capture.idle_timeout = std::chrono::duration_cast<capture::Timestamp>(config.idle_timeout);
  o.smtp.max_message_bytes = config.max_message_bytes;
  o.smtp.max_line_bytes = config.max_line_bytes;
  return o;
}

struct Engine::Impl {
  Impl(EngineOptions o, std::function<void(SeenMessage&&)> s)
      : options(std::move(o)), sink(std::move(s)) {}

  class Connection : public capture::StreamHandler {
   public:
    Connection(Impl& engine, const capture::ConnectionInfo& info)
        : engine_(engine),
          info_(info),
          ip_(policy::decide_connection(engine.options.ip_filter, info.client.address.v6,
                                        info.client.address.bytes, info.server.address.v6,
                                        info.server.address.bytes)),
          observer_(engine.options.smtp, !info.midstream,
                    [this](smtp::ObservedMessage&& m) { emit(std::move(m)); }),
          last_(info.start) {}

    void data(capture::Side from, std::string_view bytes, capture::Timestamp time) override {
      last_ = time;
      if (from == capture::Side::client)
        observer_.client_data(bytes);
      else
        observer_.server_data(bytes);
    }
    void gap(capture::Side from, std::uint64_t bytes, capture::Timestamp time) override {
      last_ = time;
      if (from == capture::Side::client)
        observer_.client_gap(bytes);
      else
        observer_.server_gap(bytes);
    }
    void close(capture::CloseReason reason, capture::Timestamp time) override {
      last_ = time;
      observer_.close(capture::to_string(reason));
      const auto& s = observer_.stats();
      engine_.stats.long_lines += s.long_lines;
      engine_.stats.unanswered_commands += s.unanswered;
      engine_.stats.resyncs += s.resyncs;
    }

   private:
    void emit(smtp::ObservedMessage&& m) {
      SeenMessage seen;
      seen.time = last_;
      seen.connection = info_.id;
      seen.client = info_.client;
      seen.server = info_.server;
      seen.midstream = info_.midstream;
      seen.ip = ip_;
      ++engine_.stats.messages;
      if (m.encrypted) ++engine_.stats.encrypted_sessions;
      if (!m.complete && !m.encrypted) ++engine_.stats.incomplete_messages;
      seen.message = std::move(m);
      engine_.sink(std::move(seen));
    }

    Impl& engine_;
    capture::ConnectionInfo info_;
    policy::IpDecision ip_;
    smtp::Observer observer_;
    capture::Timestamp last_;
  };

  EngineOptions options;
  std::function<void(SeenMessage&&)> sink;
  EngineStats stats;
  std::unique_ptr<capture::Reassembler> reassembler;
};

Engine::Engine(EngineOptions options, std::function<void(SeenMessage&&)> sink)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(sink))) {
  Impl* impl = impl_.get();
  impl_->reassembler = std::make_unique<capture::Reassembler>(
      impl_->options.capture, impl_->options.ports,
      [impl](const capture::ConnectionInfo& info) -> std::unique_ptr<capture::StreamHandler> {
        return std::make_unique<Impl::Connection>(*impl, info);
      });
}

Engine::~Engine() = default;

void Engine::feed(const capture::Frame& frame) {
  impl_->reassembler->feed(frame);
}
void Engine::finish(capture::Timestamp time) {
  impl_->reassembler->finish(time);
}
void Engine::advance(capture::Timestamp now) {
  impl_->reassembler->advance(now);
}

EngineStats Engine::stats() const {
  EngineStats out = impl_->stats;
  out.capture = impl_->reassembler->stats();
  return out;
}

std::size_t Engine::open_connections() const {
  return impl_->reassembler->open_connections();
}

}  // namespace cordon::monitor
