// What an operator did to the queue with `cordon queue` (hold, release,
// delete, flush), handed to the running gateway so that its own log says
// so: the CLI works on the spool directly, in another process, and the
// daemon would otherwise only notice that a message moved. Each action is
// one small JSON file in <queue>/actions/, written atomically by the CLI
// after the action succeeded; the gateway reads and removes them at each
// queue scan. Actions taken while no gateway runs are logged at its next
// start, with the time they were taken.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "queue/envelope.hpp"
#include "util/result.hpp"

namespace cordon::queue {

struct OperatorAction {
  std::string action;     // hold | release | delete | flush
  std::string id;         // the queue id; empty for flush
  std::size_t count = 0;  // messages affected (flush), 1 otherwise
  TimePoint time;
};

// Records `action` under `queue_root` (the spool's root); an error text
// when it cannot be written (the action itself has happened regardless).
Status<std::string> record_operator_action(const std::filesystem::path& queue_root,
                                           const OperatorAction& action);

// The recorded actions, oldest first, each removed as it is read. Entries
// that cannot be parsed are removed too, and returned with action
// "unreadable" so that the caller can say so.
std::vector<OperatorAction> take_operator_actions(const std::filesystem::path& queue_root);

}  // namespace cordon::queue
