// The due scan (Spool::due) and the next-attempt time kept in the envelope
// file's mtime: the gateway scans every second, so with thousands of
// deferred messages the scan must decide from a stat which of them to read.
// A deferred message whose envelope is corrupt (but whose mtime still says
// "not yet") must not even be opened; one that is due is found.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "queue/spool.hpp"
#include "spool_fixture.hpp"

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;
using testing::commit_message;

// Collects what the spool logs (an unreadable envelope it opened is logged
// with a warning) for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_st>(text_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_st> sink_;
};

struct timespec mtime_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mtim;
}

class SpoolDueScan : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Spool::open({dir_.path(), 0});
    ASSERT_TRUE(opened.has_value());
    spool_.emplace(std::move(*opened));
  }

  std::filesystem::path envelope_file(const std::string& id) const {
    return dir_.path() / "queue" / "deferred" / id / "envelope.json";
  }

  // Commits a message and defers it until `next_attempt`, as the gateway does.
  std::string deferred_until(TimePoint next_attempt) {
    auto id = commit_message(*spool_, "Subject: x\r\n\r\nx\r\n");
    auto claimed = spool_->activate(id);
    EXPECT_TRUE(claimed.has_value());
    Envelope e = claimed->envelope;
    e.attempts = 1;
    e.next_attempt = next_attempt;
    EXPECT_TRUE(spool_->defer(id, e).has_value());
    return id;
  }

  // Overwrites the envelope with garbage, keeping its mtime: any attempt to
  // read it quarantines it, which is logged.
  void corrupt_keeping_mtime(const std::string& id) {
    auto path = envelope_file(id);
    struct timespec times[2] = {{0, UTIME_OMIT}, mtime_of(path)};
    std::ofstream(path, std::ios::trunc) << "{ not an envelope";
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  testing::TempDir dir_;
  std::optional<Spool> spool_;
};

TEST_F(SpoolDueScan, DeferSetsTheEnvelopeMtimeToTheNextAttempt) {
  auto next = std::chrono::system_clock::now() + 3h;
  auto id = deferred_until(next);
  auto mtime = mtime_of(envelope_file(id));
  EXPECT_EQ(mtime.tv_sec, std::chrono::system_clock::to_time_t(next));
}

TEST_F(SpoolDueScan, MessagesNotYetDueAreNotReadAndADueOneIsFound) {
  auto now = std::chrono::system_clock::now();
  constexpr int kNotDue = 50;
  for (int i = 0; i < kNotDue; ++i) corrupt_keeping_mtime(deferred_until(now + 1h));
  auto due_id = deferred_until(now - 1s);

  LogCapture log;
  auto due = spool_->due(now);
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().id, due_id);
  EXPECT_EQ(log.text().find("quarantined"), std::string::npos) << log.text().substr(0, 500);

  // Once their time has come they are read (and found damaged): the check
  // above would have seen a read.
  auto later = spool_->due(now + 2h);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->size(), 1u);
  EXPECT_NE(log.text().find("quarantined"), std::string::npos);
}

TEST_F(SpoolDueScan, IncomingIsAlwaysDueWhateverItsMtime) {
  auto now = std::chrono::system_clock::now();
  auto id = commit_message(*spool_, "x");
  auto path = dir_.path() / "queue" / "incoming" / id / "envelope.json";
  struct timespec future[2] = {{0, UTIME_OMIT},
                               {std::chrono::system_clock::to_time_t(now + 24h), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), future, 0), 0);
  auto due = spool_->due(now);
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().id, id);
}

TEST_F(SpoolDueScan, AnEnvelopeWhoseMtimeWasLostIsStillJudgedByItsNextAttempt) {
  // A crash can lose the mtime (metadata not yet on disk): the message is
  // read early, and the envelope decides.
  auto now = std::chrono::system_clock::now();
  auto id = deferred_until(now + 1h);
  struct timespec past[2] = {{0, UTIME_OMIT}, {std::chrono::system_clock::to_time_t(now - 1h), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, envelope_file(id).c_str(), past, 0), 0);
  EXPECT_TRUE(spool_->due(now)->empty());
  EXPECT_EQ(spool_->due(now + 2h)->size(), 1u);
}

TEST_F(SpoolDueScan, RecoveryStampsDeferredEnvelopesWithTheirNextAttempt) {
  auto now = std::chrono::system_clock::now();
  auto id = deferred_until(now + 1h);
  struct timespec past[2] = {{0, UTIME_OMIT}, {std::chrono::system_clock::to_time_t(now - 1h), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, envelope_file(id).c_str(), past, 0), 0);
  ASSERT_TRUE(spool_->recover().has_value());
  EXPECT_EQ(mtime_of(envelope_file(id)).tv_sec, std::chrono::system_clock::to_time_t(now + 1h));
}

}  // namespace
}  // namespace cordon::queue
