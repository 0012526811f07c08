// The `log:` section: format and level.
#pragma once

#include <string>

#include "util/log.hpp"

namespace cordon::config {

struct LogConfig {
  util::LogFormat format = util::LogFormat::text;
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
};

}  // namespace cordon::config
