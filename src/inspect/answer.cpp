// Role-facing helpers of the pipeline (see answer.hpp).
#include "inspect/answer.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include "smtp/reply_builder.hpp"
#include "util/ascii.hpp"

namespace cordon::inspect {

namespace {

asio::awaitable<Inspection> inspect_job(std::shared_ptr<const Job> job) {
  co_return inspect(*job->message, job->envelope, *job->snapshot, job->store.get());
}

// Whether inspecting `message` on the caller's thread is sure to be quick:
// small, plain 7-bit text with nothing encoded (no base64, quoted-printable or
// uuencode, no NUL or 8-bit byte), so there is no attachment, archive or
// document to unpack and the work is a parse and a scan of a few KB. Handing
// such a message to a worker and back costs two thread switches, more CPU
// than inspecting it.
//
// Decided without a copy: this runs on every message of the I/O thread.
bool quick_to_inspect(std::string_view message) {
  if (message.size() > kInlineInspectionLimit) return false;
  if (util::ascii_prefix_length(message) != message.size() ||
      message.find('\0') != std::string_view::npos)
    return false;
  // `lower` in any case, found by its byte at `anchor`, which is no letter
  // (so it has one case) and rarer in mail text than the letters.
  auto holds = [message](std::string_view lower, std::size_t anchor) {
    for (auto at = message.find(lower[anchor], anchor); at != std::string_view::npos;
         at = message.find(lower[anchor], at + 1)) {
      const auto start = at - anchor;
      if (start + lower.size() <= message.size() &&
          util::iequals(message.substr(start, lower.size()), lower))
        return true;
    }
    return false;
  };
  return !holds("base64", 4) && !holds("quoted-printable", 6) && !holds("\nbegin ", 0);
}

std::string single_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

}  // namespace

asio::awaitable<Inspection> inspect_on(asio::thread_pool& workers, std::shared_ptr<const Job> job) {
  if (quick_to_inspect(*job->message)) {
    // Without the store: recording an incident may wait on the database,
    // which must never stall the caller's (I/O) thread. A message that has
    // one to record is inspected again on the pool with the store; every
    // other result is the same with or without it.
    Inspection quick = inspect(*job->message, job->envelope, *job->snapshot, nullptr);
    if (!job->store || !quick.verdict.violated()) co_return quick;
  }
  // Made before the co_await: GCC 12 destroys temporaries of aggregates
  // inside one twice.
  auto task = inspect_job(std::move(job));
  co_return co_await asio::co_spawn(workers, std::move(task), asio::use_awaitable);
}

std::string incident_reference(const Inspection& result) {
  if (!result.incident) return std::string(smtp::kNoIncidentReference);
  return result.incident->reference.empty() ? std::to_string(result.incident->id)
                                            : result.incident->reference;
}

std::vector<HeaderEdit> header_edits(const policy::ModifyOps& ops,
                                     std::span<const std::pair<std::string, std::string>> headers) {
  std::vector<HeaderEdit> out;
  // Inserted at the top one by one, so the last goes first to keep their order.
  for (auto it = ops.add_headers.rbegin(); it != ops.add_headers.rend(); ++it) {
    const std::string header = single_line(*it);
    const auto colon = header.find(':');
    if (colon == std::string::npos || colon == 0) continue;  // the loader refuses these
    out.push_back({HeaderEdit::Kind::insert_top, 0, header.substr(0, colon),
                   std::string(util::trim(std::string_view(header).substr(colon + 1)))});
  }
  const std::string prefix = single_line(ops.subject_prefix);
  if (prefix.empty()) return out;
  auto subject = std::find_if(headers.begin(), headers.end(),
                              [](const auto& h) { return util::iequals(h.first, "Subject"); });
  if (subject == headers.end()) {
    out.push_back({HeaderEdit::Kind::add, 0, "Subject", std::string(util::trim(prefix))});
    return out;
  }
  std::string_view value = subject->second;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (value.substr(0, prefix.size()) == prefix) return out;
  out.push_back({HeaderEdit::Kind::change, 1, subject->first, prefix + std::string(value)});
  return out;
}

}  // namespace cordon::inspect
