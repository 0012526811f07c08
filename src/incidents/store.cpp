// The refusing defaults of IncidentStore's console methods (see store.hpp):
// a store that does not keep users, sessions or owners says so instead of
// pretending to have saved them.
#include "incidents/store.hpp"

#include <thread>

namespace cordon::incidents {
namespace {

StoreError unsupported(std::string_view what) {
  return {StoreErrorCode::io, "this incident store keeps no " + std::string(what)};
}

}  // namespace

Status<StoreError> IncidentStore::change(IncidentId id, const IncidentChange& change) {
  if (change.assignee) return fail(unsupported("incident owners"));
  if (!change.status) return Ok{};
  return update_status(id, *change.status, change.comment, change.time);
}

StoreResult<std::vector<ConsoleUser>> IncidentStore::users() {
  return fail(unsupported("console users"));
}

StoreResult<bool> IncidentStore::put_user(const ConsoleUser&, bool) {
  return fail(unsupported("console users"));
}

Status<StoreError> IncidentStore::delete_user(const std::string&) {
  return fail(unsupported("console users"));
}

Status<StoreError> IncidentStore::put_session(const ConsoleSession&) {
  return fail(unsupported("console sessions"));
}

StoreResult<std::optional<ConsoleSession>> IncidentStore::find_session(const std::string&,
                                                                       Clock::time_point) {
  return fail(unsupported("console sessions"));
}

Status<StoreError> IncidentStore::delete_session(const std::string&) {
  return fail(unsupported("console sessions"));
}

StoreResult<std::vector<SavedFilter>> IncidentStore::saved_filters(const std::string&) {
  return fail(unsupported("saved filters"));
}

Status<StoreError> IncidentStore::put_saved_filter(const std::string&, const SavedFilter&) {
  return fail(unsupported("saved filters"));
}

Status<StoreError> IncidentStore::delete_saved_filter(const std::string&, const std::string&) {
  return fail(unsupported("saved filters"));
}

StoreResult<std::string> IncidentStore::change_token() {
  return fail(unsupported("change sequence"));
}

void IncidentStore::wait_for_change(std::chrono::milliseconds timeout) {
  std::this_thread::sleep_for(timeout);
}

}  // namespace cordon::incidents
