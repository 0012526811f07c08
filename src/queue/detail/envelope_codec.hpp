// The on-disk form of an Envelope: one JSON document. Decoding is strict
// about types and required fields, because a half-written or tampered
// envelope must be recognised as corrupt rather than half-believed.
#pragma once

#include <string>
#include <string_view>

#include "queue/envelope.hpp"
#include "util/result.hpp"

namespace cordon::queue {

std::string encode_envelope(const Envelope& envelope);

// Error: a human-readable reason (for the log line of a corrupt message).
Result<Envelope, std::string> decode_envelope(std::string_view json);

}  // namespace cordon::queue
