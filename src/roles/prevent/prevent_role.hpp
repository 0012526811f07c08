// The prevent role: cordon's inline DLP MTA. An SMTP listener on
// prevent.listen whose sessions mirror each upstream transaction onto the
// next hop (forward mode: prevent.next_hop; reflect mode: also
// prevent.next_hop, which defaults to the gateway's resubmission address
// 127.0.0.1:10026) and answer block, redirect, modify or pass at end of data,
// as inspect::inspect decides on the worker pool. Incidents go to
// <data_dir>/incidents.db; the deployment that stamps relayed messages is
// <data_dir>'s (inspect::load_or_create_deployment).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <asio/ip/tcp.hpp>

#include "inspect/stamp.hpp"
#include "roles/runtime.hpp"
#include "util/result.hpp"

namespace cordon::smtp {
class Server;
}

namespace cordon::roles {

namespace prevent {
struct PreventContext;
}

class PreventRole : public Role {
 public:
  explicit PreventRole(Shared& shared);
  ~PreventRole() override;
  std::string_view name() const override { return "prevent"; }
  Status<std::string> start() override;
  void reload(const std::shared_ptr<const config::Config>& config) override;
  void shutdown() override;
  bool busy() const override;
  // The bound listener (after start), e.g. when listen asked for port 0.
  std::optional<asio::ip::tcp::endpoint> endpoint() const { return endpoint_; }

 private:
  Shared& shared_;
  inspect::Deployment deployment_;
  std::shared_ptr<prevent::PreventContext> context_;
  std::unique_ptr<smtp::Server> server_;
  std::optional<asio::ip::tcp::endpoint> endpoint_;
};

}  // namespace cordon::roles
