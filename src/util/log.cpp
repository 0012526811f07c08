// Logging set-up: text or JSON-lines on standard error, and structured
// events (see log.hpp).
#include "util/log.hpp"
#include "util/log_event.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace cordon::util {
namespace {

// The fields of the event being logged on this thread. spdlog's formatter
// sees only the message, and the logger formats synchronously on the
// caller's thread, so log_event() lends the fields for exactly that call.
thread_local const LogFields* current_fields = nullptr;

// "%*" in the JSON pattern: the message, escaped as a JSON string body, so
// that any text a caller logs still yields one valid JSON object per line.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string out;
    append_json_escaped(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// "%&" in the JSON pattern: the current event's fields as members.
class EventFields final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (!current_fields) return;
    const std::string& s = current_fields->json();
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EventFields>();
  }
};

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
      out.append(esc, sizeof esc);
    } else {
      out.push_back(c);
    }
  }
}

void LogFields::raw(std::string_view key, std::string_view json) {
  json_ += ",\"";
  append_json_escaped(json_, key);
  json_ += "\":";
  json_ += json;
}

LogFields& LogFields::add(std::string_view key, std::string_view value) {
  std::string json = "\"";
  append_json_escaped(json, value);
  json += '"';
  raw(key, json);
  return *this;
}

LogFields& LogFields::add_number(std::string_view key, std::int64_t value) {
  raw(key, std::to_string(value));
  return *this;
}

LogFields& LogFields::add(std::string_view key, bool value) {
  raw(key, value ? "true" : "false");
  return *this;
}

LogFields& LogFields::add(std::string_view key, const std::vector<std::string>& values) {
  std::string json = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    json += i ? ",\"" : "\"";
    append_json_escaped(json, values[i]);
    json += '"';
  }
  json += ']';
  raw(key, json);
  return *this;
}

LogFields& LogFields::add_null(std::string_view key) {
  raw(key, "null");
  return *this;
}

void log_event(spdlog::level::level_enum level, std::string_view message, const LogFields& fields) {
  current_fields = &fields;
  spdlog::log(level, "{}", message);
  current_fields = nullptr;
}

void setup_logging(LogFormat format, std::string_view level) {
  auto logger = spdlog::get("cordon");
  if (!logger) logger = spdlog::stderr_logger_mt("cordon");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (format == LogFormat::json) {
    formatter->add_flag<JsonEscapedMessage>('*').add_flag<EventFields>('&').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%*"%&})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace cordon::util
