// The monitor role's factory. This build does not include the monitor role yet:
// the factory returns no role and the runtime runs the others.
#include "roles/factory.hpp"

namespace cordon::roles {

RoleResult make_monitor_role(Shared&) { return std::unique_ptr<Role>(); }

}  // namespace cordon::roles
