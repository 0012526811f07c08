// The milter role: cordon inside a site's own Postfix or Sendmail. A milter
// listener on milter.listen (TCP or a unix socket) whose connections speak
// the milter protocol (milter/server.hpp) and whose messages are judged at
// their end by the inspection pipeline (milter_decide.hpp). Incidents go to
// <data_dir>/incidents.db, through the outbox, as prevent's do.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "milter/server.hpp"
#include "roles/runtime.hpp"
#include "util/result.hpp"

namespace cordon::roles {

namespace milter {
struct MilterContext;
}

class MilterRole : public Role {
 public:
  explicit MilterRole(Shared& shared);
  ~MilterRole() override;
  std::string_view name() const override { return "milter"; }
  Status<std::string> start() override;
  void reload(const std::shared_ptr<const config::Config>& config) override;
  void shutdown() override;
  bool busy() const override;
  // The bound listener (after start), e.g. when listen asked for port 0.
  std::optional<cordon::milter::ListenAddress> address() const { return address_; }

 private:
  Shared& shared_;
  std::shared_ptr<milter::MilterContext> context_;
  std::unique_ptr<cordon::milter::Server> server_;
  std::optional<cordon::milter::ListenAddress> address_;
};

}  // namespace cordon::roles
