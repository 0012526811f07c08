// The milter role's factory and lifetime: takes the incident store, builds
// the inspection snapshot (at start and on each reload) and runs the milter
// listener whose decisions are milter_decide.cpp's.
#include "roles/milter/milter_role.hpp"

#include <spdlog/spdlog.h>

#include "inspect/from_config.hpp"
#include "roles/factory.hpp"
#include "roles/milter/milter_decide.hpp"

namespace cordon::roles {
namespace {

// The adapter from the configuration to the pipeline: milter's own block
// reply and filters; no deployment stamp (the MTA, not cordon, relays the
// message, and a milter sees each message once).
std::shared_ptr<const inspect::Snapshot> snapshot_for(const config::Config& config) {
  auto options = inspect::options_from(config);
  const auto& m = *config.milter;
  options.block_reply = {m.block_reply.code, m.block_reply.enhanced, m.block_reply.max_line_bytes,
                         m.block_reply.max_reply_bytes};
  options.sender_filter = m.filters.sender;
  options.recipient_filter = m.filters.recipient;
  if (options.scan_fault)
    spdlog::warn(
        "milter: CORDON_TEST_FAIL_SCAN is set: scans of texts holding it fail (tests only)");
  return inspect::make_snapshot(std::move(options));
}

}  // namespace

MilterRole::MilterRole(Shared& shared) : shared_(shared) {}
MilterRole::~MilterRole() = default;

Status<std::string> MilterRole::start() {
  auto config = shared_.config.get();
  if (!config->milter) return fail(std::string("the configuration has no milter section"));
  auto context = std::make_shared<milter::MilterContext>(shared_.workers, shared_.metrics);
  context->snapshot.set(snapshot_for(*config));
  if (auto warm = inspect::warm_up(*context->snapshot.get()); !warm)
    spdlog::warn("milter: {}", warm.error());
  auto store = shared_.incident_store();
  if (!store) return fail("milter: incident store: " + store.error());
  context->store = std::move(store).value();
  context_ = context;

  const auto& m = *config->milter;
  cordon::milter::ServerOptions options;
  options.session.max_message_bytes = m.max_message_size;
  options.max_frame_bytes = m.max_frame_bytes;
  options.idle_timeout = m.idle_timeout;
  options.progress_interval = m.progress_interval;
  cordon::milter::ServerHooks hooks;
  hooks.decide = [context](std::shared_ptr<const cordon::milter::Message> message) {
    return milter::decide(context, std::move(message));
  };
  hooks.on_event = [context](cordon::milter::ServerEvent e) { context->metrics.count(e); };
  server_ = std::make_unique<cordon::milter::Server>(shared_.io.get_executor(), options,
                                                     std::move(hooks));
  cordon::milter::ListenAddress where;
  if (!m.unix_path.empty()) {
    where.unix_socket = true;
    where.path = m.unix_path;
  } else {
    where.host = m.listen.host;
    where.port = m.listen.port;
  }
  auto bound = server_->listen(where);
  if (!bound) return fail("milter: cannot listen on " + where.to_string() + ": " + bound.error());
  address_ = *bound;
  spdlog::info("milter listening on {} (protocol version 6, frames up to {} bytes)",
               bound->to_string(), m.max_frame_bytes);
  return Ok{};
}

void MilterRole::reload(const std::shared_ptr<const config::Config>& config) {
  if (!context_) return;
  if (!config->milter) {
    spdlog::warn(
        "milter: the new configuration has no milter section; the previous one stays until a "
        "restart");
    return;
  }
  context_->snapshot.set(snapshot_for(*config));
}

void MilterRole::shutdown() {
  if (server_) server_->shutdown();
}

bool MilterRole::busy() const {
  return server_ && server_->connection_count() > 0;
}

RoleResult make_milter_role(Shared& shared) {
  return std::unique_ptr<Role>(std::make_unique<MilterRole>(shared));
}

}  // namespace cordon::roles
