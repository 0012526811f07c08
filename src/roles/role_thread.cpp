// A role on an I/O thread of its own (see role_thread.hpp).
#include "roles/role_thread.hpp"

#include <asio/post.hpp>
#include <future>

namespace cordon::roles {

RoleThread::RoleThread(Shared& shared, const std::function<RoleResult(Shared&)>& make)
    : work_(asio::make_work_guard(io_)),
      shared_{io_,
              shared.workers,
              shared.config,
              shared.metrics,
              shared.reload,
              shared.reload_unavailable,
              shared.incident_store},
      made_(make(shared_)) {}

RoleThread::~RoleThread() {
  stop_thread();
  if (made_) made_.value().reset();  // the role goes before the io_context it uses
}

std::string_view RoleThread::name() const {
  return inner().name();
}

Status<std::string> RoleThread::start() {
  auto started = inner().start();
  if (started) thread_ = std::thread([this] { io_.run(); });
  return started;
}

void RoleThread::run_there(const std::function<void()>& task) const {
  if (!thread_.joinable() || io_.stopped()) {
    task();
    return;
  }
  std::promise<void> done;
  asio::post(io_, [&] {
    task();
    done.set_value();
  });
  done.get_future().wait();
}

void RoleThread::reload(const std::shared_ptr<const config::Config>& config) {
  run_there([&] { inner().reload(config); });
}

void RoleThread::shutdown() {
  run_there([&] { inner().shutdown(); });
}

bool RoleThread::busy() const {
  bool busy = true;
  run_there([&] { busy = inner().busy(); });
  return busy;
}

void RoleThread::stop_thread() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
}

}  // namespace cordon::roles
