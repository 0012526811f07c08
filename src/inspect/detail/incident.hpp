// Pieces of the pipeline with a job of their own: the incident a violated
// verdict records, and the envelope an offline scan takes from the headers.
// Internal to src/inspect.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "incidents/incident.hpp"
#include "mime/mime.hpp"
#include "policy/evaluate.hpp"

namespace cordon::inspect::detail {

// incidents::NewIncident for a violated verdict, timed now.
incidents::NewIncident make_incident(const policy::Verdict& verdict,
                                     const policy::Envelope& envelope, std::string subject,
                                     std::string message_id, std::string content_hash);

// From is the sender (its first address); To, Cc and Bcc are the
// recipients. Addresses are addr-specs, with or without angle brackets.
policy::Envelope envelope_from_headers(const mime::Message& message);

// The addr-specs in one header value, in order.
std::vector<std::string> addresses_in(std::string_view value);

}  // namespace cordon::inspect::detail
