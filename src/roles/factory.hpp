// One factory per role; the runtime asks for the roles a configuration
// names. Each role's implementation file defines its factory. A factory
// that returns a null role says the role is not part of this build: the
// runtime logs a warning and runs the other roles.
#pragma once

#include "roles/runtime.hpp"

namespace cordon::roles {

RoleResult make_gateway_role(Shared& shared);
RoleResult make_prevent_role(Shared& shared);
RoleResult make_console_role(Shared& shared);
RoleResult make_monitor_role(Shared& shared);
RoleResult make_milter_role(Shared& shared);

}  // namespace cordon::roles
