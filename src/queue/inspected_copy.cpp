// The inspected copy kept in its original's entry (see inspected_copy.hpp).
#include "queue/inspected_copy.hpp"

namespace cordon::queue {

SpoolResult<bool> keep_inspected_in_place(const Spool& spool, std::string_view original_id,
                                          Envelope inspected, std::string_view received,
                                          std::string_view content) {
  auto original = spool.find(original_id);
  if (!original || original->state != QueueState::active) return false;
  // Already an inspected copy (DLP sent a second one): that one is queued whole.
  if (!original->envelope.content_prefix.empty()) return false;
  auto body = spool.read_content(original_id, QueueState::active);
  if (!body || body->size() != original->envelope.content_size) return false;
  if (content.size() < body->size() ||
      content.substr(content.size() - body->size()) != std::string_view(*body))
    return false;
  const auto added = content.substr(0, content.size() - body->size());
  inspected.content_prefix.reserve(received.size() + added.size());
  inspected.content_prefix.append(received).append(added);
  inspected.content_size = original->envelope.content_size;
  inspected.content_sha256 = original->envelope.content_sha256;
  if (auto attached = spool.attach_inspected(original_id, inspected); !attached)
    return fail(attached.error());
  return true;
}

}  // namespace cordon::queue
