// Crash consistency and cross-process use of the spool: a writer killed
// with SIGKILL mid-stream loses nothing it committed, and an operator's
// hold from another process never loses or duplicates a message a worker
// is cycling through the queue.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "queue/spool.hpp"
#include "spool_fixture.hpp"

namespace cordon::queue {
namespace {

using testing::commit_message;
using testing::count_entries;
using testing::sample_envelope;

// Content derived from the id, so that every byte can be checked after
// recovery without telling the parent the content.
std::string content_for(const std::string& id) {
  std::string content = "Subject: " + id + "\r\n\r\n";
  for (int i = 0; i < 300; ++i) content += id + " line " + std::to_string(i) + "\r\n";
  return content;
}

[[noreturn]] void write_forever(const std::filesystem::path& data_dir, int report_fd) {
  auto spool = Spool::open({data_dir, 0});
  if (!spool) ::_exit(3);
  for (;;) {
    auto writer = spool->begin(sample_envelope());
    if (!writer) ::_exit(4);
    std::string content = content_for(writer->id());
    // Small chunks, as an SMTP DATA phase delivers them.
    for (std::size_t at = 0; at < content.size(); at += 700)
      if (!writer->write(std::string_view(content).substr(at, 700))) ::_exit(5);
    auto id = writer->commit();
    if (!id) ::_exit(6);
    // Reported only after commit returned: what the client saw as 250.
    std::string line = *id + "\n";
    if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      ::_exit(7);
  }
}

TEST(SpoolCrash, EveryCommittedMessageSurvivesSigkillMidWrite) {
  testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    write_forever(dir.path(), fds[1]);
  }
  ::close(fds[1]);
  FILE* reports = ::fdopen(fds[0], "r");
  ASSERT_NE(reports, nullptr);
  std::set<std::string> committed;
  char line[64];
  while (committed.size() < 40 && std::fgets(line, sizeof line, reports))
    committed.insert(std::string(line, std::strlen(line) - 1));
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "writer stopped on its own with status " << status;
  // Ids reported between our last read and the kill are committed too.
  while (std::fgets(line, sizeof line, reports))
    committed.insert(std::string(line, std::strlen(line) - 1));
  std::fclose(reports);
  ASSERT_GE(committed.size(), 40u);

  auto spool = Spool::open({dir.path(), 0});
  ASSERT_TRUE(spool.has_value());
  auto report = spool->recover();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->quarantined, 0u);
  EXPECT_EQ(count_entries(dir.path() / "queue" / "staging"), 0u);
  for (const auto& id : committed) {
    auto message = spool->find(id);
    ASSERT_TRUE(message.has_value()) << id;
    EXPECT_EQ(message->state, QueueState::incoming);
    auto content = spool->read_content(id, QueueState::incoming);
    ASSERT_TRUE(content.has_value()) << id;
    EXPECT_EQ(*content, content_for(id)) << id;
    EXPECT_EQ(message->envelope.content_size, content->size());
  }
  // At most the one message whose 250 was lost with the writer.
  auto listed = spool->list();
  ASSERT_TRUE(listed.has_value());
  EXPECT_LE(listed->size(), committed.size() + 1);
  for (const auto& message : *listed)
    EXPECT_EQ(*spool->read_content(message.id, message.state), content_for(message.id));
}

// A gateway-like worker cycles every message incoming -> active ->
// deferred -> incoming while another process holds them one by one.
TEST(SpoolConcurrency, OperatorHoldFromAnotherProcessWhileAWorkerIterates) {
  testing::TempDir dir;
  auto spool = Spool::open({dir.path(), 0});
  ASSERT_TRUE(spool.has_value());
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back(commit_message(*spool, "message " + std::to_string(i)));

  // The operator starts once the worker has completed one full round, so
  // that holds land while messages are moving.
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(go[1]);
    char byte;
    if (::read(go[0], &byte, 1) != 1) ::_exit(2);
    auto cli = Spool::open({dir.path(), 0});
    if (!cli) ::_exit(3);
    for (const auto& id : ids) {
      auto held = cli->hold(id, std::chrono::system_clock::now());
      if (!held) {
        std::fprintf(stderr, "hold %s: %s\n", id.c_str(), held.error().detail.c_str());
        ::_exit(4);
      }
      ::usleep(2000);
    }
    ::_exit(0);
  }

  ::close(go[0]);
  std::map<SpoolError, int> tolerated;
  std::size_t cycles = 0;
  bool started = false;
  for (bool child_running = true; child_running;) {
    if (!started && cycles >= ids.size()) {
      ASSERT_EQ(::write(go[1], "g", 1), 1);
      ::close(go[1]);
      started = true;
    }
    int status = 0;
    child_running = ::waitpid(child, &status, WNOHANG) == 0;
    if (!child_running) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    auto now = std::chrono::system_clock::now();
    auto due = spool->due(now);
    ASSERT_TRUE(due.has_value());
    for (const auto& message : *due) {
      auto claimed = spool->activate(message.id);
      if (!claimed) {
        ASSERT_EQ(claimed.error().code, SpoolError::not_found) << claimed.error().detail;
        ++tolerated[claimed.error().code];
        continue;
      }
      Envelope e = claimed->envelope;
      e.attempts += 1;
      e.next_attempt = now;
      e.add_trace(now, "dlp-deferred", "451 4.3.0 try again");
      auto deferred = spool->defer(message.id, e);
      if (!deferred) {
        ASSERT_EQ(deferred.error().code, SpoolError::not_found) << deferred.error().detail;
        ++tolerated[deferred.error().code];
      }
      ++cycles;
    }
    auto flushed = spool->flush(now);
    ASSERT_TRUE(flushed.has_value());
  }
  EXPECT_GT(cycles, ids.size());

  auto listed = spool->list();
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), ids.size());
  for (const auto& message : *listed) {
    EXPECT_EQ(message.state, QueueState::hold) << message.id;
    EXPECT_EQ(message.envelope.trace.back().event, "hold") << message.id;
  }
  EXPECT_EQ(count_entries(dir.path() / "queue" / "hold"), ids.size());
  EXPECT_EQ(count_entries(dir.path() / "queue" / "active"), 0u);
}

}  // namespace
}  // namespace cordon::queue
