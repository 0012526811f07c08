// Queue integrity: every committed content carries its SHA-256; damage found
// while the gateway runs (envelope unreadable, content missing, truncated or
// altered) is quarantined once, never handed on; envelopes of the previous
// layout (no checksum) still work. And a full disk never strands a message
// in active/: the attempt's envelope is kept in memory (UnsavedEnvelopes)
// until the spool can write again.
//
// How the full disk is made: a real, unprivileged failure of the kernel
// rather than a fake in the spool. The soft RLIMIT_FSIZE of this process is
// set to 0 (SIGXFSZ ignored), so every write(2) to a regular file fails with
// EFBIG, which the spool treats exactly as ENOSPC (SpoolError::no_space);
// creating empty files and renames still work, as on a full disk. A tmpfs of
// a few KiB would give ENOSPC itself but needs CAP_SYS_ADMIN (mount), which
// CI containers often lack; the limit needs nothing and is lifted again by
// raising the soft limit back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "queue/spool.hpp"
#include "queue/unsaved.hpp"
#include "spool_fixture.hpp"

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;
using testing::commit_message;
using testing::sample_envelope;

namespace fs = std::filesystem;

// sha256("abc"), FIPS 180-2 appendix B.1.
constexpr const char* kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

// The disk is "full" for this process while the object lives.
class FullDisk {
 public:
  FullDisk() {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    struct rlimit none = saved_;
    none.rlim_cur = 0;
    ::setrlimit(RLIMIT_FSIZE, &none);
  }
  ~FullDisk() { lift(); }
  void lift() {
    if (lifted_) return;
    lifted_ = true;
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }
  // True when a write to a new file in `dir` really fails as on a full disk.
  static bool effective(const fs::path& dir) {
    auto probe = dir / "probe";
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool failed = fd >= 0 && ::write(fd, "x", 1) < 0 && errno == EFBIG;
    if (fd >= 0) ::close(fd);
    ::unlink(probe.c_str());
    return failed;
  }

 private:
  struct rlimit saved_ {};
  void (*old_handler_)(int) = SIG_DFL;
  bool lifted_ = false;
};

class SpoolIntegrity : public ::testing::Test {
 protected:
  void SetUp() override {
    SpoolOptions options{dir_.path(), 0, {}};
    options.on_quarantine = [this](Damage d) { quarantined_.push_back(d); };
    auto opened = Spool::open(options);
    ASSERT_TRUE(opened.has_value());
    spool_.emplace(std::move(*opened));
  }
  fs::path queue_dir(std::string_view sub) const { return dir_.path() / "queue" / sub; }
  fs::path in_state(QueueState state, const std::string& id) const {
    return queue_dir(to_string(state)) / id;
  }
  // Commits and claims a message, as the gateway does before an attempt.
  QueuedMessage claimed(std::string_view content) {
    auto id = commit_message(*spool_, content);
    auto m = spool_->activate(id);
    EXPECT_TRUE(m.has_value());
    return *m;
  }
  void write_file(const fs::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }

  testing::TempDir dir_;
  std::optional<Spool> spool_;
  std::vector<Damage> quarantined_;
};

TEST_F(SpoolIntegrity, CommitRecordsTheContentSha256InTheEnvelope) {
  auto id = commit_message(*spool_, "abc");
  auto found = spool_->find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->envelope.content_sha256, kAbcSha256);
  std::ifstream in(in_state(QueueState::incoming, id) / "envelope.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(std::string("\"content_sha256\": \"") + kAbcSha256 + "\""), std::string::npos)
      << text;
}

TEST_F(SpoolIntegrity, IntactContentIsReturned) {
  auto m = claimed("Subject: a\r\n\r\nbody\r\n");
  auto content = spool_->read_checked(m);
  ASSERT_TRUE(content.has_value()) << content.error().detail;
  EXPECT_EQ(*content, "Subject: a\r\n\r\nbody\r\n");
  EXPECT_TRUE(quarantined_.empty());
}

TEST_F(SpoolIntegrity, AnEnvelopeOfThePreviousLayoutWithoutChecksumIsReadAndDeliverable) {
  // Exactly what the version before checksums wrote.
  const std::string id = "0000000000000001";
  const std::string content = "Subject: old\r\n\r\nfrom before checksums\r\n";
  auto dir = in_state(QueueState::incoming, id);
  fs::create_directories(dir);
  write_file(dir / "content", content);
  write_file(dir / "envelope.json", R"({
 "arrival": "2026-11-30T10:00:00Z",
 "attempts": 0,
 "client": {"address": "192.0.2.7", "helo": "mx.example.com", "hostname": ""},
 "content_size": )" + std::to_string(content.size()) +
                                        R"(,
 "flags": {"bypassed": false, "delay_warning_sent": false, "dlp_resubmitted": false,
           "dsn_headers_only": false, "inspected": false},
 "next_attempt": "2026-11-30T10:00:00Z",
 "params": {"body": "", "envid": "", "ret": "", "size": null, "smtputf8": false},
 "recipients": [{"address": "bob@example.net", "dsn_owed": false, "last_reply": "",
                 "notify": "", "orcpt": "", "remote_mta": "", "state": "pending",
                 "status": ""}],
 "sender": "alice@example.com",
 "trace": [{"detail": "from 192.0.2.7", "event": "queued", "time": "2026-11-30T10:00:00Z"}],
 "version": 1
}
)");
  auto due = spool_->due(std::chrono::system_clock::now());
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);
  auto m = spool_->activate(id);
  ASSERT_TRUE(m.has_value()) << m.error().detail;
  EXPECT_TRUE(m->envelope.content_sha256.empty());
  auto read = spool_->read_checked(*m);
  ASSERT_TRUE(read.has_value()) << read.error().detail;
  EXPECT_EQ(*read, content);
  // Saved again (after an attempt) it stays readable, still without a checksum.
  ASSERT_TRUE(spool_->defer(id, m->envelope).has_value());
  auto again = spool_->find(id);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->envelope.content_sha256.empty());
  EXPECT_TRUE(quarantined_.empty());
}

TEST_F(SpoolIntegrity, AlteredContentOfTheSameSizeFailsTheChecksumAndIsQuarantined) {
  auto m = claimed("Card: 4111 1111 1111 1111\r\n");
  write_file(in_state(QueueState::active, m.id) / "content", "Card: 4111 1111 1111 1112\r\n");
  auto read = spool_->read_checked(m);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code, SpoolError::corrupt);
  EXPECT_EQ(quarantined_, std::vector<Damage>{Damage::checksum});
  EXPECT_FALSE(fs::exists(in_state(QueueState::active, m.id)));
  EXPECT_TRUE(fs::exists(queue_dir("corrupt") / m.id / "content"));
  auto listed = spool_->list_corrupt();
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().name, m.id);
  EXPECT_EQ(listed->front().damage, Damage::checksum);
  EXPECT_EQ(listed->front().from, "active");
  ASSERT_TRUE(listed->front().envelope.has_value());
  EXPECT_EQ(listed->front().envelope->sender, "alice@example.com");
}

TEST_F(SpoolIntegrity, TruncatedContentIsQuarantined) {
  auto m = claimed("Subject: long\r\n\r\nmore than this\r\n");
  fs::resize_file(in_state(QueueState::active, m.id) / "content", 10);
  auto read = spool_->read_checked(m);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code, SpoolError::corrupt);
  EXPECT_EQ(quarantined_, std::vector<Damage>{Damage::content_size});
  EXPECT_TRUE(fs::exists(queue_dir("corrupt") / m.id / "quarantine.json"));
}

TEST_F(SpoolIntegrity, MissingContentIsQuarantined) {
  auto m = claimed("x");
  fs::remove(in_state(QueueState::active, m.id) / "content");
  auto read = spool_->read_checked(m);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code, SpoolError::corrupt);
  EXPECT_EQ(quarantined_, std::vector<Damage>{Damage::content_missing});
}

TEST_F(SpoolIntegrity, AMessageMovedAwayIsNotFoundNotQuarantined) {
  auto m = claimed("x");
  ASSERT_TRUE(spool_->hold(m.id, std::chrono::system_clock::now()).has_value());
  auto read = spool_->read_checked(m);  // still says active
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code, SpoolError::not_found);
  EXPECT_TRUE(quarantined_.empty());
}

TEST_F(SpoolIntegrity, AnUnreadableEnvelopeIsQuarantinedAtTheFirstScanOnly) {
  auto now = std::chrono::system_clock::now();
  auto m = claimed("x");
  Envelope e = m.envelope;
  e.next_attempt = now - 1s;
  ASSERT_TRUE(spool_->defer(m.id, e).has_value());
  write_file(in_state(QueueState::deferred, m.id) / "envelope.json", "{ not an envelope");
  for (int scan = 0; scan < 3; ++scan) {
    auto due = spool_->due(std::chrono::system_clock::now() + 1s);
    ASSERT_TRUE(due.has_value());
    EXPECT_TRUE(due->empty());
  }
  EXPECT_EQ(quarantined_, std::vector<Damage>{Damage::envelope});
  EXPECT_FALSE(fs::exists(in_state(QueueState::deferred, m.id)));
  auto listed = spool_->list_corrupt();
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().damage, Damage::envelope);
  EXPECT_EQ(listed->front().from, "deferred");
  EXPECT_FALSE(listed->front().envelope.has_value());
}

TEST_F(SpoolIntegrity, RecoveryQuarantinesThroughTheSameCounter) {
  auto id = commit_message(*spool_, "a longer content");
  fs::resize_file(in_state(QueueState::incoming, id) / "content", 3);
  write_file(queue_dir("incoming") / "stray-file", "?");
  auto report = spool_->recover();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->quarantined, 2u);
  std::sort(quarantined_.begin(), quarantined_.end());
  EXPECT_EQ(quarantined_, (std::vector<Damage>{Damage::content_size, Damage::stray}));
}

TEST_F(SpoolIntegrity, AQuarantinedEntryCanBeDeleted) {
  auto m = claimed("abc");
  write_file(in_state(QueueState::active, m.id) / "content", "abd");
  ASSERT_FALSE(spool_->read_checked(m).has_value());
  ASSERT_TRUE(spool_->remove(m.id).has_value());
  EXPECT_FALSE(fs::exists(queue_dir("corrupt") / m.id));
  EXPECT_EQ(spool_->remove(m.id).error().code, SpoolError::not_found);
}

// ---- a full disk ----

// Each test: one message committed and claimed for an attempt; fill_disk()
// makes the disk full until lift() (or the end of the test).
class FullDiskQueue : public SpoolIntegrity {
 protected:
  void SetUp() override {
    SpoolIntegrity::SetUp();
    {
      FullDisk probe;
      if (!FullDisk::effective(dir_.path())) GTEST_SKIP() << "RLIMIT_FSIZE has no effect here";
    }
    unsaved_.emplace(*spool_);
    id_ = commit_message(*spool_, "Subject: a\r\n\r\nx\r\n");
    auto m = unsaved_->claim(id_);
    ASSERT_TRUE(m.has_value());
    claimed_ = *m;
  }
  void fill_disk() { full_.emplace(); }
  void lift() { full_.reset(); }
  // An attempt that must be retried in an hour, as Attempt leaves it.
  Envelope after_attempt(const Envelope& before) const {
    Envelope e = before;
    e.attempts += 1;
    e.next_attempt = now_ + 1h;
    e.add_trace(now_, "dlp-deferred", "451 4.3.0 try later");
    return e;
  }

  TimePoint now_ = std::chrono::system_clock::now();
  std::optional<UnsavedEnvelopes> unsaved_;
  std::string id_;
  QueuedMessage claimed_;
  std::optional<FullDisk> full_;
};

TEST_F(FullDiskQueue, AnEnvelopeThatCannotBeSavedLeavesActiveAndIsSavedWhenSpaceReturns) {
  const Envelope result = after_attempt(claimed_.envelope);
  fill_disk();
  // Spool::defer alone fails and leaves it in active/, until a restart.
  ASSERT_EQ(spool_->defer(id_, result).error().code, SpoolError::no_space);
  ASSERT_TRUE(fs::exists(in_state(QueueState::active, id_)));

  EXPECT_TRUE(unsaved_->defer(id_, result));
  EXPECT_FALSE(fs::exists(in_state(QueueState::active, id_)));
  auto where = spool_->find(id_);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->state, QueueState::deferred);
  EXPECT_EQ(where->envelope.attempts, 0);  // the disk still has the old one
  EXPECT_EQ(unsaved_->size(), 1u);
  // The old envelope on disk says "due"; the kept one says "in an hour".
  auto due = unsaved_->due(now_ + 1s);
  ASSERT_TRUE(due.has_value());
  EXPECT_TRUE(due->empty());
  EXPECT_EQ(unsaved_->retry(now_ + 2s), 1u);  // still full

  lift();
  EXPECT_EQ(unsaved_->retry(now_ + 3s), 0u);
  auto saved = spool_->find(id_);
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(saved->state, QueueState::deferred);
  EXPECT_EQ(saved->envelope.attempts, 1);
  EXPECT_EQ(saved->envelope.trace.back().event, "dlp-deferred");
  auto due_later = unsaved_->due(now_ + 2h);
  ASSERT_TRUE(due_later.has_value());
  ASSERT_EQ(due_later->size(), 1u);
}

TEST_F(FullDiskQueue, AFlushMakesAnUnsavedMessageDueNowWithTheKeptEnvelope) {
  fill_disk();
  ASSERT_TRUE(unsaved_->defer(id_, after_attempt(claimed_.envelope)));
  // `cordon queue flush` (renames work on a full disk; its trace update does not).
  auto flushed = spool_->flush(now_);
  ASSERT_TRUE(flushed.has_value());
  EXPECT_EQ(*flushed, 1u);
  auto due = unsaved_->due(now_);
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().id, id_);
  EXPECT_EQ(due->front().envelope.attempts, 1);
  // The next attempt starts from the kept envelope, and owns it.
  auto again = unsaved_->claim(id_);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->envelope.attempts, 1);
  EXPECT_EQ(again->envelope.trace.back().event, "dlp-deferred");
  EXPECT_EQ(unsaved_->size(), 1u);  // still not on disk: the attempt has it
  // Its result cannot be saved either: kept again, and out of active/.
  EXPECT_TRUE(unsaved_->defer(id_, after_attempt(again->envelope)));
  EXPECT_EQ(spool_->find(id_)->state, QueueState::deferred);
  lift();
  EXPECT_EQ(unsaved_->retry(now_), 0u);
  EXPECT_EQ(spool_->find(id_)->envelope.attempts, 2);
}

TEST_F(FullDiskQueue, AMessageDeletedWhileUnsavedIsForgotten) {
  fill_disk();
  ASSERT_TRUE(unsaved_->defer(id_, after_attempt(claimed_.envelope)));
  ASSERT_TRUE(spool_->remove(id_).has_value());
  EXPECT_EQ(unsaved_->retry(now_), 0u);
}

TEST_F(FullDiskQueue, AHeldUnsavedMessageIsSavedWhereItIs) {
  fill_disk();
  ASSERT_TRUE(unsaved_->defer(id_, after_attempt(claimed_.envelope)));
  ASSERT_TRUE(spool_->hold(id_, now_).has_value());
  lift();
  EXPECT_EQ(unsaved_->retry(now_), 0u);
  auto held = spool_->find(id_);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->state, QueueState::hold);
  EXPECT_EQ(held->envelope.attempts, 1);
}

TEST_F(FullDiskQueue, AQuarantinedClaimIsForgotten) {
  fill_disk();
  ASSERT_TRUE(unsaved_->defer(id_, after_attempt(claimed_.envelope)));
  ASSERT_TRUE(spool_->flush(now_).has_value());
  auto again = unsaved_->claim(id_);
  ASSERT_TRUE(again.has_value());
  lift();
  fs::resize_file(in_state(QueueState::active, id_) / "content", 3);
  ASSERT_EQ(spool_->read_checked(*again).error().code, SpoolError::corrupt);
  EXPECT_EQ(unsaved_->retry(now_), 0u);
}

}  // namespace
}  // namespace cordon::queue
