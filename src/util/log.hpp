// Logging set-up shared by every role: spdlog to standard error, as plain
// text or as one JSON object per line (for log shippers).
#pragma once

#include <string_view>

namespace cordon::util {

enum class LogFormat { text, json };

// Configures the default spdlog logger. `level` is an spdlog level name
// ("debug", "info", "warn", ...).
void setup_logging(LogFormat format, std::string_view level = "info");

}  // namespace cordon::util
