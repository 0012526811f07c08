// The prevent role: cordon's inline DLP MTA. An SMTP listener on
// prevent.listen whose sessions mirror each upstream transaction onto the
// next hop (forward mode: prevent.next_hop; reflect mode: also
// prevent.next_hop, which defaults to the gateway's resubmission address
// 127.0.0.1:10026) and answer block, redirect, modify or pass at end of data.
// Incidents go to <data_dir>/incidents.db.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <asio/ip/tcp.hpp>

#include "roles/prevent/prevent_message.hpp"
#include "roles/runtime.hpp"
#include "util/result.hpp"

namespace cordon::smtp {
class Server;
}

namespace cordon::roles {

namespace prevent {
struct PreventContext;
}

// The deployment that stamps X-Cordon-Inspected: its id from
// <data_dir>/deployment-id and its key from <data_dir>/deployment-key (mode
// 0600), each created there at random on first use (128 and 256 bits, hex),
// so they survive restarts, are shared by every process using that data_dir
// and differ between installations.
Result<prevent::Deployment, std::string> load_or_create_deployment(const std::string& data_dir);

class PreventRole : public Role {
 public:
  explicit PreventRole(Shared& shared);
  ~PreventRole() override;
  std::string_view name() const override { return "prevent"; }
  Status<std::string> start() override;
  void shutdown() override;
  bool busy() const override;
  // The bound listener (after start), e.g. when listen asked for port 0.
  std::optional<asio::ip::tcp::endpoint> endpoint() const { return endpoint_; }

 private:
  Shared& shared_;
  std::shared_ptr<prevent::PreventContext> context_;
  std::unique_ptr<smtp::Server> server_;
  std::optional<asio::ip::tcp::endpoint> endpoint_;
};

}  // namespace cordon::roles
