// `cordon queue` through the binary: the JSON contract of `list` (with the
// quarantined entries of queue/corrupt/), and hold/release/delete/flush by
// id, with exit 2 for an unknown id.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "queue/spool.hpp"
#include "queue/time_format.hpp"
#include "spool_fixture.hpp"
#include "support/process.hpp"

namespace cordon::queue {
namespace {

using namespace std::chrono_literals;
using cordon::testing::cordon_bin;
using cordon::testing::run_command;
using testing::commit_message;
using testing::sample_envelope;

class QueueCli : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.path() / "cordon.yaml";
    std::ofstream(config_) << "data_dir: " << (dir_.path() / "data").string() << "\n";
    auto opened = Spool::open({dir_.path() / "data", 0});
    ASSERT_TRUE(opened.has_value());
    spool_.emplace(std::move(*opened));
  }
  cordon::testing::CommandResult queue(const std::string& args) {
    return run_command(cordon_bin() + " queue " + args + " --config " + config_.string() + " 2>&1");
  }

  testing::TempDir dir_;
  std::filesystem::path config_;
  std::optional<Spool> spool_;
};

TEST_F(QueueCli, ListJsonIsTheDesignArray) {
  auto now = std::chrono::system_clock::now();
  auto deferred_id = commit_message(*spool_, "Subject: a\r\n\r\nx\r\n");
  auto incoming_id = commit_message(*spool_, "Subject: b\r\n\r\ny\r\n");
  auto claimed = spool_->activate(deferred_id);
  ASSERT_TRUE(claimed.has_value());
  Envelope e = claimed->envelope;
  e.attempts = 2;
  e.next_attempt = now + 5min;
  e.add_trace(now, "dlp-deferred", "451 4.7.1 \"busy\" try later");
  ASSERT_TRUE(spool_->defer(deferred_id, e).has_value());

  auto r = queue("list --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = nlohmann::json::parse(r.output);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u);
  for (const auto& item : doc) {
    std::set<std::string> keys;
    for (const auto& [key, value] : item.items()) keys.insert(key);
    EXPECT_EQ(keys, (std::set<std::string>{"id", "sender", "recipients", "state", "attempts",
                                           "next_attempt", "trace"}));
    for (const auto& t : item["trace"]) {
      EXPECT_TRUE(t.contains("time") && t.contains("event") && t.contains("detail"));
      EXPECT_TRUE(parse_rfc3339(t["time"].get<std::string>()).has_value());
    }
    EXPECT_TRUE(parse_rfc3339(item["next_attempt"].get<std::string>()).has_value());
  }
  auto by_id = [&](const std::string& id) {
    for (const auto& item : doc)
      if (item["id"] == id) return item;
    return nlohmann::json();
  };
  auto d = by_id(deferred_id);
  EXPECT_EQ(d["state"], "deferred");
  EXPECT_EQ(d["sender"], "alice@example.com");
  EXPECT_EQ(d["recipients"], nlohmann::json::array({"bob@example.net", "carol@example.org"}));
  EXPECT_EQ(d["attempts"], 2);
  EXPECT_EQ(d["next_attempt"], format_rfc3339(now + 5min));
  EXPECT_EQ(d["trace"].back()["event"], "dlp-deferred");
  EXPECT_EQ(d["trace"].back()["detail"], "451 4.7.1 \"busy\" try later");
  EXPECT_EQ(by_id(incoming_id)["state"], "incoming");
  EXPECT_EQ(by_id(incoming_id)["attempts"], 0);
}

TEST_F(QueueCli, ListTextShowsEachMessage) {
  auto id = commit_message(*spool_, "x");
  auto r = queue("list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(id), std::string::npos);
  EXPECT_NE(r.output.find("incoming"), std::string::npos);
  EXPECT_NE(r.output.find("<bob@example.net>"), std::string::npos);
  EXPECT_NE(r.output.find("-- 1 message"), std::string::npos);
}

TEST_F(QueueCli, HoldReleaseDeleteById) {
  auto id = commit_message(*spool_, "x");
  auto r = queue("hold " + id);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(spool_->find(id)->state, QueueState::hold);
  EXPECT_EQ(nlohmann::json::parse(queue("list --format json").output)[0]["state"], "hold");

  r = queue("release " + id);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(spool_->find(id)->state, QueueState::incoming);
  EXPECT_EQ(queue("release " + id).exit_code, 2);  // not on hold any more

  r = queue("delete " + id);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(spool_->find(id).error().code, SpoolError::not_found);
}

TEST_F(QueueCli, UnknownOrMalformedIdExitsTwoWithAMessage) {
  for (const char* verb : {"hold", "release", "delete"}) {
    auto r = queue(std::string(verb) + " 0SD1X4K2ZQ7H3M8P");
    EXPECT_EQ(r.exit_code, 2) << verb;
    EXPECT_NE(r.output.find("0SD1X4K2ZQ7H3M8P"), std::string::npos) << r.output;
  }
  auto r = queue("delete ../../etc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a queue id"), std::string::npos) << r.output;
}

TEST_F(QueueCli, FlushMovesDeferredToIncoming) {
  auto id = commit_message(*spool_, "x");
  auto claimed = spool_->activate(id);
  Envelope e = claimed->envelope;
  e.next_attempt = std::chrono::system_clock::now() + 1h;
  ASSERT_TRUE(spool_->defer(id, e).has_value());
  auto r = queue("flush");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("flushed 1 message"), std::string::npos) << r.output;
  auto after = spool_->find(id);
  EXPECT_EQ(after->state, QueueState::incoming);
  EXPECT_LE(after->envelope.next_attempt, std::chrono::system_clock::now());
}

TEST_F(QueueCli, ListShowsQuarantinedEntriesAsCorruptWithTheirReason) {
  auto queued_id = commit_message(*spool_, "fine");
  auto damaged_id = commit_message(*spool_, "Subject: x\r\n\r\nsome content\r\n");
  auto claimed = spool_->activate(damaged_id);
  ASSERT_TRUE(claimed.has_value());
  std::filesystem::resize_file(dir_.path() / "data/queue/active" / damaged_id / "content", 4);
  ASSERT_EQ(spool_->read_checked(*claimed).error().code, SpoolError::corrupt);

  auto r = queue("list --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc = nlohmann::json::parse(r.output);
  ASSERT_EQ(doc.size(), 2u) << r.output;
  EXPECT_EQ(doc[0]["id"], queued_id);
  EXPECT_FALSE(doc[0].contains("quarantine"));
  const auto& c = doc[1];
  EXPECT_EQ(c["id"], damaged_id);
  EXPECT_EQ(c["state"], "corrupt");
  // Every key of a queued message, with the same types, plus "quarantine".
  EXPECT_EQ(c["sender"], "alice@example.com");
  EXPECT_EQ(c["recipients"], nlohmann::json::array({"bob@example.net", "carol@example.org"}));
  EXPECT_TRUE(c["attempts"].is_number_integer());
  EXPECT_TRUE(parse_rfc3339(c["next_attempt"].get<std::string>()).has_value());
  EXPECT_TRUE(c["trace"].is_array());
  EXPECT_EQ(c["quarantine"]["reason"], "content-size");
  EXPECT_EQ(c["quarantine"]["from"], "active");
  EXPECT_NE(c["quarantine"]["detail"].get<std::string>().find("4 bytes"), std::string::npos);
  EXPECT_TRUE(parse_rfc3339(c["quarantine"]["time"].get<std::string>()).has_value());

  r = queue("list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("-- 1 message"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Quarantined"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(damaged_id + "  content-size"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("-- 1 quarantined"), std::string::npos) << r.output;

  // An operator deletes it once looked at.
  r = queue("delete " + damaged_id);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(queue("list --format json").output).size(), 1u);
}

TEST_F(QueueCli, BadConfigExitsTwo) {
  auto r = run_command(cordon_bin() + " queue list --config " +
                       (dir_.path() / "missing.yaml").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("missing.yaml"), std::string::npos);
}

TEST_F(QueueCli, MissingDataDirIsAnErrorNamingThePath) {
  const auto config = dir_.path() / "elsewhere.yaml";
  std::ofstream(config) << "data_dir: " << (dir_.path() / "no-such-data").string() << "\n";
  for (const char* verb : {"list", "list --format json", "flush"}) {
    auto r =
        run_command(cordon_bin() + " queue " + verb + " --config " + config.string() + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << verb << ": " << r.output;
    EXPECT_EQ(r.output, "cordon queue: the data directory " +
                            (dir_.path() / "no-such-data").string() +
                            " does not exist (data_dir of " + config.string() + ")\n")
        << verb;
  }
}

}  // namespace
}  // namespace cordon::queue
