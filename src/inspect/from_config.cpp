// The configuration adapter (see from_config.hpp).
#include "inspect/from_config.hpp"

namespace cordon::inspect {

InspectOptions options_from(const config::Config& config) {
  InspectOptions options;
  options.policies = config.policy_set;
  options.mime = config.mime;
  options.attachments = config.attachments;
  options.scan_fault = scan_fault_from_environment();
  if (config.prevent) {
    const auto& b = config.prevent->block_reply;
    options.block_reply = {b.code, b.enhanced, b.max_line_bytes, b.max_reply_bytes};
  }
  return options;
}

}  // namespace cordon::inspect
