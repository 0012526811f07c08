// The spool: commit protocol, state moves, recovery and free-space refusal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "queue/queue_id.hpp"
#include "queue/spool.hpp"
#include "queue/time_format.hpp"
#include "spool_fixture.hpp"

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;
using testing::commit_message;
using testing::count_entries;
using testing::sample_envelope;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Spool::open({dir_.path(), 0});
    ASSERT_TRUE(opened.has_value());
    spool_.emplace(std::move(*opened));
  }
  std::filesystem::path queue_dir(std::string_view sub) const {
    return dir_.path() / "queue" / sub;
  }

  testing::TempDir dir_;
  std::optional<Spool> spool_;
};

TEST_F(SpoolTest, CommittedMessageIsInIncomingWithContentAndEnvelope) {
  auto now = std::chrono::system_clock::now();
  auto writer = spool_->begin(sample_envelope(now));
  ASSERT_TRUE(writer.has_value());
  std::string content;
  for (int i = 0; i < 5000; ++i) {
    std::string line = "line " + std::to_string(i) + " of the body\r\n";
    ASSERT_TRUE(writer->write(line).has_value());
    content += line;
  }
  auto id = writer->commit();
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(is_valid_queue_id(*id));
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);

  auto found = spool_->find(*id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, QueueState::incoming);
  const Envelope& e = found->envelope;
  EXPECT_EQ(e.sender, "alice@example.com");
  ASSERT_EQ(e.recipients.size(), 2u);
  EXPECT_EQ(e.recipients[0].orcpt, "rfc822;bob@example.net");
  EXPECT_EQ(e.recipients[0].notify, "FAILURE,DELAY");
  EXPECT_EQ(e.params.size, 1234u);
  EXPECT_EQ(e.params.ret, "HDRS");
  EXPECT_EQ(e.params.envid, "QQ314159");
  EXPECT_EQ(e.client.helo, "mx.example.com");
  EXPECT_EQ(format_rfc3339(e.arrival), format_rfc3339(now));
  ASSERT_EQ(e.trace.size(), 1u);
  EXPECT_EQ(e.trace[0].event, "queued");
  EXPECT_EQ(e.content_size, content.size());
  auto stored = spool_->read_content(*id, QueueState::incoming);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, content);
}

TEST_F(SpoolTest, ContentCanBeStreamedBack) {
  std::string content(200000, 'x');
  auto id = commit_message(*spool_, content);
  auto reader = spool_->open_content(id, QueueState::incoming);
  ASSERT_TRUE(reader.has_value());
  std::string back;
  char buf[4096];
  for (;;) {
    auto n = reader->read(buf);
    ASSERT_TRUE(n.has_value());
    if (*n == 0) break;
    back.append(buf, *n);
  }
  EXPECT_EQ(back, content);
}

TEST_F(SpoolTest, UncommittedWriterLeavesNothingBehind) {
  {
    auto writer = spool_->begin(sample_envelope());
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE(writer->write("Subject: never mind\r\n\r\n").has_value());
    EXPECT_EQ(count_entries(queue_dir("staging")), 1u);
  }
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
  EXPECT_EQ(count_entries(queue_dir("incoming")), 0u);
}

TEST_F(SpoolTest, WriterRefusesWorkAfterCommit) {
  auto writer = spool_->begin(sample_envelope());
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->commit().has_value());
  auto again = writer->write("more");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, SpoolError::writer_closed);
  EXPECT_EQ(count_entries(queue_dir("incoming")), 1u);
}

TEST(QueueId, IdsAreUniqueWellFormedAndSortByTime) {
  auto t = std::chrono::system_clock::now();
  std::set<std::string> ids;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    auto id = make_queue_id(t + std::chrono::microseconds(i));
    EXPECT_TRUE(is_valid_queue_id(id)) << id;
    EXPECT_LT(previous, id);
    previous = id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_FALSE(is_valid_queue_id("../../etc/passwd"));
  EXPECT_FALSE(is_valid_queue_id("0123456789ABCDEU"));  // U is not Crockford base32
}

TEST_F(SpoolTest, ActivateClaimsAMessageExactlyOnce) {
  auto id = commit_message(*spool_, "x");
  auto first = spool_->activate(id);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->state, QueueState::active);
  auto second = spool_->activate(id);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, SpoolError::not_found);
}

TEST_F(SpoolTest, DeferredMessageIsDueAtItsNextAttemptAndFlushMakesItDueNow) {
  auto now = std::chrono::system_clock::now();
  auto id = commit_message(*spool_, "x");
  auto claimed = spool_->activate(id);
  ASSERT_TRUE(claimed.has_value());
  Envelope e = claimed->envelope;
  e.attempts = 1;
  e.next_attempt = now + 60s;
  e.add_trace(now, "dlp-deferred", "451 4.3.0 try later");
  ASSERT_TRUE(spool_->defer(id, e).has_value());

  auto found = spool_->find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, QueueState::deferred);
  EXPECT_EQ(found->envelope.attempts, 1);
  EXPECT_EQ(found->envelope.trace.back().detail, "451 4.3.0 try later");
  EXPECT_TRUE(spool_->due(now)->empty());
  ASSERT_EQ(spool_->due(now + 61s)->size(), 1u);

  auto flushed = spool_->flush(now + 5s);
  ASSERT_TRUE(flushed.has_value());
  EXPECT_EQ(*flushed, 1u);
  auto after = spool_->find(id);
  EXPECT_EQ(after->state, QueueState::incoming);
  EXPECT_EQ(format_rfc3339(after->envelope.next_attempt), format_rfc3339(now + 5s));
  EXPECT_EQ(after->envelope.trace.back().event, "flushed");
  EXPECT_EQ(spool_->due(now)->size(), 1u);
}

TEST_F(SpoolTest, HoldReleaseAndDelete) {
  auto now = std::chrono::system_clock::now();
  auto id = commit_message(*spool_, "x");
  auto held = spool_->hold(id, now);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(*held, QueueState::incoming);
  EXPECT_EQ(spool_->find(id)->state, QueueState::hold);
  EXPECT_EQ(spool_->find(id)->envelope.trace.back().event, "hold");
  EXPECT_TRUE(spool_->due(now + 24h)->empty());
  EXPECT_FALSE(spool_->activate(id).has_value());

  ASSERT_TRUE(spool_->release(id, now).has_value());
  EXPECT_EQ(spool_->find(id)->state, QueueState::incoming);
  auto again = spool_->release(id, now);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, SpoolError::invalid_state);

  ASSERT_TRUE(spool_->remove(id).has_value());
  EXPECT_EQ(spool_->find(id).error().code, SpoolError::not_found);
  EXPECT_EQ(spool_->remove(id).error().code, SpoolError::not_found);
  EXPECT_EQ(spool_->remove("../incoming").error().code, SpoolError::invalid_id);
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
}

TEST_F(SpoolTest, RecoveryRequeuesActivePurgesStagingAndKeepsTheRest) {
  auto a = commit_message(*spool_, "active one");
  auto b = commit_message(*spool_, "incoming one");
  ASSERT_TRUE(spool_->activate(a).has_value());
  // A crash mid-receive leaves a staging directory with partial content.
  auto writer = spool_->begin(sample_envelope());
  ASSERT_TRUE(writer->write("partial").has_value());
  std::filesystem::copy(queue_dir("staging") / writer->id(), queue_dir("staging") / "leftover",
                        std::filesystem::copy_options::recursive);
  writer->abort();
  // A crash mid-update leaves a temporary envelope beside the real one.
  std::ofstream(queue_dir("incoming") / b / "envelope.json.tmp-deadbeef") << "{\"half";

  auto report = spool_->recover();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->requeued_active, 1u);
  EXPECT_EQ(report->purged_staging, 1u);
  EXPECT_EQ(report->quarantined, 0u);
  EXPECT_EQ(spool_->find(a)->state, QueueState::incoming);
  EXPECT_EQ(*spool_->read_content(a, QueueState::incoming), "active one");
  EXPECT_EQ(count_entries(queue_dir("staging")), 0u);
  EXPECT_EQ(count_entries(queue_dir("incoming") / b), 2u);
}

TEST_F(SpoolTest, RecoveryMovesTruncatedEnvelopeOrContentToCorrupt) {
  auto bad_envelope = commit_message(*spool_, "one");
  auto bad_content = commit_message(*spool_, "two two two");
  auto good = commit_message(*spool_, "three");
  auto envelope_path = queue_dir("incoming") / bad_envelope / "envelope.json";
  std::filesystem::resize_file(envelope_path, std::filesystem::file_size(envelope_path) / 2);
  std::filesystem::resize_file(queue_dir("incoming") / bad_content / "content", 3);

  auto report = spool_->recover();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->quarantined, 2u);
  EXPECT_TRUE(std::filesystem::exists(queue_dir("corrupt") / bad_envelope / "content"));
  EXPECT_TRUE(std::filesystem::exists(queue_dir("corrupt") / bad_content));
  auto listed = spool_->list();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, good);
}

TEST_F(SpoolTest, TraceCanBeAddedToAMessageInItsStateOnly) {
  auto now = std::chrono::system_clock::now();
  auto id = commit_message(*spool_, "x");
  ASSERT_TRUE(spool_->add_trace(id, QueueState::incoming, {now, "dlp-passed", "copy of X"}));
  auto found = spool_->find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->envelope.trace.back().detail, "copy of X");
  auto elsewhere = spool_->add_trace(id, QueueState::deferred, {now, "x", ""});
  ASSERT_FALSE(elsewhere.has_value());
  EXPECT_EQ(elsewhere.error().code, SpoolError::not_found);
}

TEST_F(SpoolTest, AnOwedDsnAndWhatItReportsSurviveInTheEnvelope) {
  auto id = commit_message(*spool_, "x");
  auto claimed = spool_->activate(id);
  ASSERT_TRUE(claimed.has_value());
  Envelope e = claimed->envelope;
  e.recipients[0].state = RecipientState::failed;
  e.recipients[0].status = "5.7.0";
  e.recipients[0].remote_mta = "10.0.0.1";
  e.recipients[0].dsn_owed = true;
  e.flags.dsn_headers_only = true;
  ASSERT_TRUE(spool_->defer(id, e).has_value());
  auto found = spool_->find(id);
  ASSERT_TRUE(found.has_value());
  const auto& r = found->envelope.recipients[0];
  EXPECT_EQ(r.state, RecipientState::failed);
  EXPECT_EQ(r.status, "5.7.0");
  EXPECT_EQ(r.remote_mta, "10.0.0.1");
  EXPECT_TRUE(r.dsn_owed);
  EXPECT_FALSE(found->envelope.recipients[1].dsn_owed);
  EXPECT_TRUE(found->envelope.flags.dsn_headers_only);
}

TEST_F(SpoolTest, AnEnvelopeWrittenBeforeOwedDsnsExistedIsStillRead) {
  auto id = commit_message(*spool_, "x");
  auto path = queue_dir("incoming") / id / "envelope.json";
  std::ifstream in(path);
  auto doc = nlohmann::json::parse(in);
  in.close();
  for (auto& r : doc["recipients"]) {
    r.erase("status");
    r.erase("remote_mta");
    r.erase("dsn_owed");
  }
  doc["flags"].erase("dsn_headers_only");
  std::ofstream(path, std::ios::trunc) << doc.dump(1);
  auto found = spool_->find(id);
  ASSERT_TRUE(found.has_value()) << found.error().detail;
  EXPECT_FALSE(found->envelope.recipients[0].dsn_owed);
  EXPECT_EQ(found->envelope.recipients[0].status, "");
  EXPECT_FALSE(found->envelope.flags.dsn_headers_only);
}

TEST_F(SpoolTest, ListSkipsAnUnreadableEnvelopeAndFindCallsItCorrupt) {
  auto bad = commit_message(*spool_, "one");
  auto good = commit_message(*spool_, "two");
  std::ofstream(queue_dir("incoming") / bad / "envelope.json", std::ios::trunc)
      << "{\"sender\": 1}";
  auto listed = spool_->list();
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, good);
  EXPECT_EQ(spool_->find(bad).error().code, SpoolError::corrupt);
  EXPECT_TRUE(spool_->remove(bad).has_value());
}

TEST(SpoolSpace, BeginRefusesBelowMinFree) {
  testing::TempDir dir;
  auto spool = Spool::open({dir.path(), std::uint64_t{1} << 62});
  ASSERT_TRUE(spool.has_value());
  auto writer = spool->begin(sample_envelope());
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, SpoolError::no_space);
  EXPECT_EQ(count_entries(dir.path() / "queue" / "staging"), 0u);
}

TEST(SpoolSpace, BeginRefusesADeclaredSizeThatWouldCrossMinFree) {
  testing::TempDir dir;
  auto spool = Spool::open({dir.path(), 1});
  ASSERT_TRUE(spool.has_value());
  auto envelope = sample_envelope();
  EXPECT_TRUE(spool->begin(envelope).has_value());
  envelope.params.size = std::uint64_t{1} << 62;
  auto writer = spool->begin(envelope);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, SpoolError::no_space);
}

// A full disk mid-message is simulated with RLIMIT_FSIZE in a child
// process: the kernel then fails write(2) with EFBIG, which the spool
// treats exactly like ENOSPC.
TEST(SpoolSpace, DiskFullDuringWriteIsNoSpaceAndLeavesNothing) {
  testing::TempDir dir;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {256 * 1024, 256 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    auto spool = Spool::open({dir.path(), 0});
    if (!spool) ::_exit(10);
    auto writer = spool->begin(sample_envelope());
    if (!writer) ::_exit(11);
    std::string chunk(8192, 'y');
    SpoolError seen = SpoolError::writer_closed;
    bool failed = false;
    for (int i = 0; i < 100 && !failed; ++i) {
      auto written = writer->write(chunk);
      if (!written) {
        failed = true;
        seen = written.error().code;
      }
    }
    if (!failed) {
      auto committed = writer->commit();
      if (committed) ::_exit(12);
      seen = committed.error().code;
    }
    if (seen != SpoolError::no_space) ::_exit(13);
    if (count_entries(dir.path() / "queue" / "staging") != 0) ::_exit(14);
    if (count_entries(dir.path() / "queue" / "incoming") != 0) ::_exit(15);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace cordon::queue
