// What the prevent role does to the raw bytes of a message it relays: find
// its own loop-prevention header, hash the content so that a re-sent message
// maps onto the same incident, and apply the modify response (subject
// prefix, added headers) plus the X-Cordon-Inspected trace header. Pure
// functions on bytes; the message is RFC 5322 text with CRLF (or LF) line
// ends, as received in DATA.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::roles::prevent {

inline constexpr std::string_view kInspectedHeader = "X-Cordon-Inspected";

// Offset of the first body byte: just after the empty line that ends the
// top-level header block (the message's size when there is none).
std::size_t body_offset(std::string_view message);

// Who stamps X-Cordon-Inspected: the deployment's public id, and the secret
// key that makes the stamp unforgeable. Without the key, anybody who saw one
// stamped message could add our header to a new one and skip inspection.
struct Deployment {
  std::string id;
  std::string key;
};

// True when a top-level X-Cordon-Inspected header carries `deployment`'s id
// and a mac that matches this message's content (see stamp()). Headers of
// other deployments, forged or copied stamps, and stamped messages whose
// content was changed afterwards do not count: they are inspected.
bool inspected_by(std::string_view message, const Deployment& deployment);

// SHA-256 (lower-case hex) of the message without its trace headers
// (Received, Return-Path, Delivered-To, X-Original-To, X-Cordon-Inspected).
// Every MTA on the way adds a Received header on each attempt, so hashing
// the raw bytes would turn each re-send into a new incident.
std::string content_hash(std::string_view message);

// The message with "X-Cordon-Inspected: <id>; <verdict>[; incident=<n>];
// mac=<hex>" on top. The mac is an HMAC-SHA256 under the deployment key of
// content_hash(message), so trace headers added later on the way (Received)
// keep it valid and any other change voids it.
std::string stamp(std::string_view message, const Deployment& deployment, std::string_view verdict,
                  std::optional<std::int64_t> incident);

struct Rewrite {
  std::vector<std::string> prepend_headers;  // whole "Name: value" fields, without CRLF
  std::string subject_prefix;                // empty: subject unchanged
};

// The message with `prepend_headers` on top (in order) and the first Subject
// prefixed (a Subject header is added when there is none). A subject that
// already starts with the prefix is left alone, so a reply to a modified
// message does not collect "[DLP] [DLP] ". CR and LF inside the given
// headers or prefix are replaced by spaces: configuration text must never
// split a header.
std::string rewrite(std::string_view message, const Rewrite& rewrite);

}  // namespace cordon::roles::prevent
