// One attempt on one queued message: the DLP stage (queue/dlp_pool.hpp),
// delivery to the next hop (Maildir or smarthost), and the bookkeeping that
// follows (queue/outcome.hpp: recipient states, retry or expiry; DSNs).
//
// All I/O is injected (AttemptIo), so the whole attempt runs in unit tests
// without sockets or a spool. The caller claims the message, runs the
// attempt, then saves the envelope (Spool::defer) or removes the message
// as the report says.
//
// A bounce is never lost: a failure DSN that cannot be queued stays owed on
// its recipients (dsn_owed), the message is deferred instead of removed, and
// later attempts queue the DSN (without asking DLP or the next hop again)
// before the message may go.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "queue/dlp_pool.hpp"
#include "queue/dsn.hpp"
#include "queue/envelope.hpp"
#include "queue/maildir.hpp"
#include "queue/schedule.hpp"
#include "smtp/client.hpp"
#include "util/result.hpp"

namespace cordon::queue {

struct AttemptOptions {
  std::string hostname;              // HELO name, Maildir file names, DSN reporting MTA
  std::optional<DlpHost> smarthost;  // the next hop; empty: deliver to `maildir`
  std::filesystem::path maildir;     // with new/, cur/, tmp/ below it
  DlpPoolOptions dlp;
  Duration max_lifetime{};  // delay DSNs: retried until arrival + max_lifetime
  // gateway.local_domains (lower case): a DSN about content DLP refused or
  // has not passed returns its Date and Message-ID only to senders of these
  // domains, and nothing of it to anybody else.
  std::vector<std::string> local_domains;
};

// The attempt's I/O. Each is awaited on the caller's executor.
struct AttemptIo {
  // One SMTP transaction to `hop` (a DLP host or the smarthost).
  std::function<asio::awaitable<smtp::DeliveryResult>(
      const DlpHost& hop, const smtp::ClientOptions& options,
      const smtp::DeliveryEnvelope& envelope, const std::string& message)>
      smtp;
  // Writes the message to options.maildir; the file's path.
  std::function<asio::awaitable<Result<std::filesystem::path, std::string>>(const MaildirMessage&)>
      maildir;
  // Commits a DSN to the spool; its queue id, or why not.
  std::function<asio::awaitable<Result<std::string, std::string>>(const QueuedDsn&)> submit_dsn;
};

// What happened, for the caller's metrics and spool calls.
struct AttemptReport {
  Envelope envelope;              // attempts counted, recipients, trace, flags, next_attempt
  bool keep = false;              // true: defer with `envelope`; false: remove the message
  std::optional<DlpVerdict> dlp;  // the DLP pool ran
  std::string delivered_via;      // "maildir" | "smarthost" when the next hop took it
  std::size_t bounced = 0;        // recipients failed by DLP or the next hop
};

// id, envelope and content are taken by value: a coroutine keeps
// references past its caller's full expression. `content` is empty when the
// queued content could not be read: the attempt
// is then a local deferral. `now` is the attempt's time.
asio::awaitable<AttemptReport> run_attempt(const AttemptOptions& options, CircuitBreakers& breakers,
                                           RetryScheduler& scheduler, const AttemptIo& io,
                                           std::string id, Envelope envelope,
                                           std::optional<std::string> content, TimePoint now);

}  // namespace cordon::queue
