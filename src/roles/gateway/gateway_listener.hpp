// The gateway's two SMTP listeners, as smtp::Handler implementations:
//
//  - client: mail from users and upstream MTAs. Clients inside
//    gateway.relay_networks may send anywhere; others only to
//    gateway.local_domains (554 5.7.1 Relay access denied at RCPT), so the
//    gateway is never an open relay.
//  - resubmit: mail coming back from DLP (reflect mode). Only the DLP
//    hosts' addresses may use it (550 5.7.1 at MAIL), and only messages
//    carrying a valid X-Cordon-Inspected stamp of this deployment for their
//    own content are taken (550 5.7.1 after DATA otherwise): a process on a
//    DLP host that is not prevent, or a stamp copied from another message,
//    cannot skip inspection. What is taken is queued as inspected and never
//    goes to DLP again.
//
// DATA streams into a spool writer; 250 is answered only after the spool
// committed the message (fsynced), a full disk answers 452 4.3.1. A
// resubmission is held in memory until its stamp is checked, then kept in
// its original's entry when it is that content with DLP's header lines in
// front (queue/inspected_copy.hpp), else queued whole.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inspect/stamp.hpp"
#include "queue/spool.hpp"
#include "roles/runtime.hpp"
#include "smtp/server.hpp"

namespace cordon::roles::gateway {

enum class ListenerKind { client, resubmit };

struct ListenerContext {
  Shared* shared = nullptr;
  queue::Spool spool;
  std::string hostname;
  // Textual IP addresses of the DLP hosts (resolved at start).
  std::vector<std::string> dlp_addresses;
  // Whose stamp the resubmission port accepts: <data_dir>'s, the same key
  // prevent stamps with (see inspect/stamp.hpp).
  inspect::Deployment deployment;
  // Called on the I/O thread once a message is committed; `skip_dlp` says
  // it goes straight to delivery.
  std::function<void(const std::string& id, bool skip_dlp)> committed;
  // Reflect mode (I/O thread): whether the inspected copy of queue entry
  // `id` may be kept in that entry, i.e. its attempt is waiting for DLP's
  // reply and no copy is kept yet; then, once the write is over, whether
  // it was kept. Empty: every copy is queued whole.
  std::function<bool(const std::string& id)> begin_in_place;
  std::function<void(const std::string& id, bool kept)> end_in_place;
};

smtp::HandlerFactory make_handler_factory(std::shared_ptr<const ListenerContext> context,
                                          ListenerKind kind);

}  // namespace cordon::roles::gateway
