// A role run on an I/O thread of its own (its own io_context), so that two
// busy mail-path roles of one process (gateway and prevent, the embedded
// default) use two cores instead of sharing one I/O thread. The role is
// built and started on the caller's thread before its own thread runs;
// afterwards each call the runtime makes (reload, shutdown, busy) runs on
// the role's thread, the caller waiting for it, so the role's state is only
// ever touched by one thread at a time, as with the shared I/O thread.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "roles/runtime.hpp"

namespace cordon::roles {

class RoleThread final : public Role {
 public:
  // `make` builds the role from the Shared it is given: `shared` with this
  // object's io_context in place of the common one.
  RoleThread(Shared& shared, const std::function<RoleResult(Shared&)>& make);
  ~RoleThread() override;
  RoleThread(const RoleThread&) = delete;
  RoleThread& operator=(const RoleThread&) = delete;

  // What `make` returned: an error, or a null role (not in this build).
  const RoleResult& made() const { return made_; }

  std::string_view name() const override;
  Status<std::string> start() override;
  void reload(const std::shared_ptr<const config::Config>& config) override;
  void shutdown() override;
  bool busy() const override;
  // Ends the role's thread (pending work is dropped); the runtime calls it
  // once the common I/O thread has stopped, before the worker pool joins.
  void stop_thread();

 private:
  Role& inner() const { return *made_.value(); }
  // Runs `task` on the role's thread and waits for it (directly when that
  // thread is not running).
  void run_there(const std::function<void()>& task) const;

  mutable asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  Shared shared_;
  RoleResult made_;
  std::thread thread_;
};

}  // namespace cordon::roles
