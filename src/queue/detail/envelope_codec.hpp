// The on-disk form of an Envelope (and of the quarantine record kept
// beside an entry of corrupt/): one JSON document. Decoding is strict
// about types and required fields, because a half-written or tampered
// envelope must be recognised as corrupt rather than half-believed.
#pragma once

#include <string>
#include <string_view>

#include "queue/envelope.hpp"
#include "queue/spool.hpp"
#include "util/result.hpp"

namespace cordon::queue {

std::string encode_envelope(const Envelope& envelope);

// Error: a human-readable reason (for the log line of a corrupt message).
Result<Envelope, std::string> decode_envelope(std::string_view json);

// corrupt/<name>/quarantine.json: {"reason","from","detail","time"}.
struct QuarantineRecord {
  Damage damage = Damage::envelope;
  std::string from;
  std::string detail;
  TimePoint time{};
};
inline constexpr std::string_view kQuarantineRecord = "quarantine.json";

std::string encode_quarantine_record(const QuarantineRecord& record);
Result<QuarantineRecord, std::string> decode_quarantine_record(std::string_view json);

}  // namespace cordon::queue
