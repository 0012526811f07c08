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

bool InPlaceCopies::begin(const std::string& id) {
  auto it = state_.find(id);
  if (it == state_.end() || it->second != State::waiting) return false;
  it->second = State::writing;
  return true;
}

void InPlaceCopies::end(const std::string& id, bool kept) {
  if (auto it = state_.find(id); it != state_.end())
    it->second = kept ? State::kept : State::waiting;
}

bool InPlaceCopies::writing(const std::string& id) const {
  auto it = state_.find(id);
  return it != state_.end() && it->second == State::writing;
}

bool InPlaceCopies::close(const std::string& id) {
  auto it = state_.find(id);
  if (it == state_.end()) return false;
  const bool kept = it->second == State::kept;
  state_.erase(it);
  return kept;
}

StoredCopy store_inspected_copy(const Spool& spool, const std::string& original_id, bool may_keep,
                                const Envelope& envelope,
                                const std::function<std::string(const std::string&)>& received,
                                std::string_view content) {
  StoredCopy out;
  if (may_keep) {
    auto kept =
        keep_inspected_in_place(spool, original_id, envelope, received(original_id), content);
    if (kept && *kept) {
      out.kept = true;
      return out;
    }
    if (!kept) out.not_kept = kept.error().detail;
  }
  out.queued = [&]() -> SpoolResult<std::string> {
    auto writer = spool.begin(envelope);
    if (!writer) return fail(writer.error());
    auto written = writer->write(received(writer->id()));
    if (written) written = writer->write(content);
    if (!written) return fail(written.error());
    return writer->commit();
  }();
  return out;
}

}  // namespace cordon::queue
