// What a role that answers for a message needs of the pipeline beyond
// inspect(): the inspection run on the worker pool from a session's
// coroutine, the incident as a block or hold text names it, and a modify
// response as edits of the header section for a role that cannot send a
// rewritten message (the milter edits the MTA's copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include "incidents/store.hpp"
#include "inspect/inspect.hpp"
#include "policy/evaluate.hpp"

namespace cordon::inspect {

// One message to inspect, kept alive until its inspection is done.
struct Job {
  std::shared_ptr<const std::string> message;
  std::optional<policy::Envelope> envelope;
  std::shared_ptr<const Snapshot> snapshot;
  std::shared_ptr<incidents::IncidentStore> store;  // may be null
};

// Messages up to this size that are plain 7-bit text with nothing encoded
// are inspected on the caller's thread (see inspect_on).
inline constexpr std::size_t kInlineInspectionLimit = 32 * 1024;

// Inspects `job` and resumes the caller on its own executor. A small
// plain-text message (kInlineInspectionLimit) is inspected on the caller's
// thread, bounded work cheaper than two thread switches; every other message,
// and any that has an incident to record, on a thread of `workers`: the
// session's I/O thread never unpacks attachments or waits on the database.
asio::awaitable<Inspection> inspect_on(asio::thread_pool& workers, std::shared_ptr<const Job> job);

// The incident as the block reply names it: its id, the outbox reference
// when the store could not take it yet, or "not recorded".
std::string incident_reference(const Inspection& result);

// One edit of the header section.
struct HeaderEdit {
  enum class Kind {
    insert_top,  // a new header above every other
    add,         // a new header at the end of the section
    change,      // the `index`-th (1-based) header called `name` gets `value`
  };
  Kind kind = Kind::add;
  std::uint32_t index = 0;
  std::string name;
  std::string value;  // without the leading space
};

// The modify response `ops` applied to a message whose headers are
// `headers` (name, value), as prevent's rewrite does it: added headers on
// top in their order, and the first Subject prefixed (added when there is
// none; left alone when it already starts with the prefix).
std::vector<HeaderEdit> header_edits(const policy::ModifyOps& ops,
                                     std::span<const std::pair<std::string, std::string>> headers);

}  // namespace cordon::inspect
