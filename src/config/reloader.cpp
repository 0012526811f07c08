// Configuration reloads off the I/O thread (see reloader.hpp).
#include "config/reloader.hpp"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <future>

namespace cordon::config {

Reloader::Reloader(asio::io_context& io, std::optional<std::string> path,
                   std::shared_ptr<const Config> started, util::Metrics& metrics, Apply apply)
    : io_(io),
      path_(std::move(path)),
      started_(std::move(started)),
      metrics_(metrics),
      apply_(std::move(apply)) {}

Reloader::~Reloader() {
  stop();
}

void Reloader::start(Done done) {
  if (!path_) {
    asio::post(io_, [done = std::move(done)] {
      if (done) done(fail(std::string(kNothingToReload)));
    });
    return;
  }
  const std::uint64_t generation = ++requested_;
  asio::post(compiler_, [this, generation, done = std::move(done)]() mutable {
    auto loaded = load();
    asio::post(io_, [this, generation, loaded = std::move(loaded), done = std::move(done)] {
      auto outcome = apply(generation, loaded);
      if (done) done(std::move(outcome));
    });
  });
}

Status<std::string> Reloader::reload_and_wait() {
  if (!path_) return fail(std::string(kNothingToReload));
  if (io_.get_executor().running_in_this_thread()) return apply(++requested_, load());
  auto done = std::make_shared<std::promise<Status<std::string>>>();
  auto outcome = done->get_future();
  start([done](Status<std::string> status) { done->set_value(std::move(status)); });
  try {
    return outcome.get();
  } catch (const std::future_error&) {
    return fail(std::string("cordon stopped before the reload was applied"));
  }
}

void Reloader::stop() {
  compiler_.stop();
  compiler_.join();
}

ConfigResult Reloader::load() const {
  return load_config_file(*path_, {.cache_compiled = true});
}

Status<std::string> Reloader::apply(std::uint64_t generation, const ConfigResult& loaded) {
  if (!loaded) {
    auto why = loaded.error().to_string();
    spdlog::error("reload refused, the previous configuration stays in force: {}", why);
    metrics_.counter("cordon_config_reloads_total", "Configuration reloads", "result=\"refused\"")
        .inc();
    return fail(why);
  }
  if (generation < applied_) {
    spdlog::info("configuration read from {} dropped: a later reload is in force", *path_);
    return Ok{};
  }
  applied_ = generation;
  apply_(*loaded);
  metrics_.counter("cordon_config_reloads_total", "Configuration reloads", "result=\"ok\"").inc();
  const Config& next = **loaded;
  spdlog::info(
      "configuration reloaded from {}: applied {} policies, filters, block_reply, next_hop, "
      "mime and attachment limits, on_unscannable, and the gateway's relay, DLP, delivery and "
      "retry settings, for sessions and queue attempts that start from now on",
      *path_, next.policies.size());
  // Compared with what the process started with: a change a reload cannot
  // apply stays pending however many reloads follow.
  const auto pending = changes_needing_restart(*started_, next);
  for (const auto& change : pending)
    spdlog::warn(
        "reload: {}: needs a restart to take effect (the value in force is the one cordon "
        "started with)",
        change);
  if (pending.empty()) spdlog::info("reload: nothing in the new configuration needs a restart");
  for (const auto& warning : next.warnings()) spdlog::warn("{}: {}", *path_, warning);
  return Ok{};
}

}  // namespace cordon::config
