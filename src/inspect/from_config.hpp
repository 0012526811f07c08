// The adapter from the YAML configuration model to the pipeline's options,
// so that inspect.hpp never sees the whole configuration.
#pragma once

#include "inspect/inspect.hpp"
#include "config/config.hpp"

namespace cordon::inspect {

// The compiled policies, the MIME and attachment limits and the block reply
// (prevent.block_reply; the defaults without a prevent section). Filters
// and the deployment are the role's to add: they differ between roles.
// The test-only scan fault comes from the environment
// (scan_fault_from_environment), never from the configuration.
InspectOptions options_from(const config::Config& config);

}  // namespace cordon::inspect
