// The loop-prevention stamp and the content hash: a message this deployment
// has inspected carries "X-Cordon-Inspected: <id>; <verdict>[; incident=<n>];
// mac=<hex>", so that when it comes back (reflect mode, a mail loop) it is
// relayed rather than inspected again; the content hash maps a re-sent
// message onto the incident it already has.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace cordon::inspect {

// Every header field cordon adds starts with this; none is content.
inline constexpr std::string_view kOwnHeaderPrefix = "X-Cordon-";
inline constexpr std::string_view kInspectedHeader = "X-Cordon-Inspected";

// Who stamps X-Cordon-Inspected: the deployment's public id, and the secret
// key that makes the stamp unforgeable. Without the key, anybody who saw one
// stamped message could add our header to a new one and skip inspection.
struct Deployment {
  std::string id;
  std::string key;
};

// The deployment of `data_dir`: its id from <data_dir>/deployment-id and its
// key from <data_dir>/deployment-key (mode 0600), each created there at
// random on first use (128 and 256 bits, hex), so they survive restarts, are
// shared by every process using that data_dir and differ between
// installations.
Result<Deployment, std::string> load_or_create_deployment(const std::string& data_dir);

// True when a top-level X-Cordon-Inspected header carries `deployment`'s id
// and a mac that matches this message's content (see stamp()). Headers of
// other deployments, forged or copied stamps, and stamped messages whose
// content was changed afterwards do not count: they are inspected.
bool inspected_by(std::string_view message, const Deployment& deployment);

// What inspected_by() found, for the gateway's resubmission port, which
// refuses everything but `valid` and says why in its log and metrics.
enum class StampCheck {
  valid,             // a stamp of this deployment whose mac matches this content
  missing,           // no X-Cordon-Inspected header at all
  other_deployment,  // stamps, none with this deployment's id (another key/id pair)
  invalid,           // this deployment's id, but the mac does not match this content
};
StampCheck check_stamp(std::string_view message, const Deployment& deployment);
std::string_view to_string(StampCheck check);

// SHA-256 (lower-case hex) of the message without its trace headers
// (Received, Return-Path, Delivered-To, X-Original-To, and every X-Cordon-*
// field such as X-Cordon-Inspected and the gateway's X-Cordon-Queue-Id).
// Every MTA on the way adds a Received header on each attempt, and the
// gateway gives each submission a new queue id, so hashing the raw bytes
// would turn each re-send into a new incident.
std::string content_hash(std::string_view message);

// The message with "X-Cordon-Inspected: <id>; <verdict>[; incident=<n>];
// mac=<hex>" on top. The mac is an HMAC-SHA256 under the deployment key of
// content_hash(message), so trace headers added later on the way (Received)
// keep it valid and any other change voids it.
std::string stamp(std::string_view message, const Deployment& deployment, std::string_view verdict,
                  std::optional<std::int64_t> incident);

}  // namespace cordon::inspect
