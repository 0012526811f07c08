// Configuration reloads without stalling the I/O thread. Compiling a policy
// set takes seconds when it has many keywords (5-10 s for 20,000), and every
// session runs on the one I/O thread: so the file is read and compiled on a
// thread of its own, and only `apply` (the swap of the snapshot and the
// roles' own reload) runs on the I/O thread. Compiled databases are cached
// in data_dir, so a reload of unchanged policies skips the compile.
//
// Reloads compile one at a time in the order they were asked for and are
// applied in that order; one that completes after a later one was applied
// (possible only beside an in-place reload on the I/O thread) is dropped.
#pragma once

#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"

namespace cordon::config {

// Why a process on the embedded default cannot reload.
inline constexpr std::string_view kNothingToReload =
    "running on the embedded default: nothing to reload";

class Reloader {
 public:
  using Apply = std::function<void(const std::shared_ptr<const Config>&)>;
  using Done = std::function<void(Status<std::string>)>;

  // `path`: the file to read again (none: the embedded default, nothing to
  // reload); `started`: the configuration the process started with, against
  // which changes that need a restart are reported; `apply`: puts a loaded
  // configuration in force, on the I/O thread.
  Reloader(asio::io_context& io, std::optional<std::string> path,
           std::shared_ptr<const Config> started, util::Metrics& metrics, Apply apply);
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  bool has_file() const { return path_.has_value(); }

  // Starts a reload; `done` (may be empty) gets the outcome on the I/O thread.
  void start(Done done);

  // Reloads and waits for the outcome (what SIGHUP and the console's Reload
  // do). Called on the I/O thread it cannot wait there without stalling
  // every session, so it then does the whole reload in place.
  Status<std::string> reload_and_wait();

  // Waits for a compile under way; later reloads are not started.
  void stop();

 private:
  ConfigResult load() const;
  Status<std::string> apply(std::uint64_t generation, const ConfigResult& loaded);

  asio::io_context& io_;
  const std::optional<std::string> path_;
  const std::shared_ptr<const Config> started_;
  util::Metrics& metrics_;
  Apply apply_;
  std::atomic<std::uint64_t> requested_{0};
  std::uint64_t applied_ = 0;  // I/O thread only
  // Last: destroyed (joined) first, while the members its jobs use live.
  asio::thread_pool compiler_{1};
};

}  // namespace cordon::config
