// The console role's factory. This build does not include the console role yet:
// the factory returns no role and the runtime runs the others.
#include "roles/factory.hpp"

namespace cordon::roles {

RoleResult make_console_role(Shared&) { return std::unique_ptr<Role>(); }

}  // namespace cordon::roles
