// Structured log events: a message plus named fields, which JSON log lines
// (log.format: json) carry as members of the line's object beside "msg".
// Text lines show the message alone: it already says, for people, what the
// fields say for programs.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

namespace cordon::util {

// The fields of one event, in the order added. Keys are plain identifiers
// chosen by the caller; values are escaped here, so any text is safe.
class LogFields {
 public:
  LogFields& add(std::string_view key, std::string_view value);
  LogFields& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  LogFields& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) LogFields& add(std::string_view key,
                                                                            T value) {
    return add_number(key, static_cast<std::int64_t>(value));
  }
  LogFields& add(std::string_view key, bool value);
  LogFields& add(std::string_view key, const std::vector<std::string>& values);
  LogFields& add_null(std::string_view key);

  const std::string& json() const { return json_; }  // ,"key":value,...

 private:
  LogFields& add_number(std::string_view key, std::int64_t value);
  void raw(std::string_view key, std::string_view json);
  std::string json_;
};

// Logs `message` with `fields` through the default logger.
void log_event(spdlog::level::level_enum level, std::string_view message, const LogFields& fields);

// `text` as the body of a JSON string (quotes, backslashes and control
// characters escaped; other bytes as they are).
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace cordon::util
