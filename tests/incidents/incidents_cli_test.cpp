// `cordon incidents` end to end: an empty data_dir lists nothing, a recorded
// incident comes out as the JSON contract and as a table row.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "incidents/sqlite_store.hpp"
#include "support/process.hpp"

using cordon::testing::cordon_bin;
using cordon::testing::run_command;
using namespace cordon::incidents;

namespace {

class CliDir {
 public:
  CliDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-inc-cli-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
    std::ofstream(config()) << "data_dir: " << path_ << "/data\n";
    std::filesystem::create_directories(path_ + "/data");
  }
  ~CliDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string config() const { return path_ + "/cordon.yaml"; }
  std::string db() const { return path_ + "/data/incidents.db"; }

 private:
  std::string path_;
};

}  // namespace

TEST(IncidentsCli, MissingDatabaseListsNothing) {
  CliDir dir;
  auto json = run_command(cordon_bin() + " incidents --format json --config " + dir.config());
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(json.output, "[]\n");
  auto text = run_command(cordon_bin() + " incidents --config " + dir.config());
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.output, "no incidents\n");
  EXPECT_FALSE(std::filesystem::exists(dir.db()));  // listing never creates the database
}

// Run from another directory, a relative data_dir names nothing: that is
// an error, not an empty list.
TEST(IncidentsCli, MissingDataDirIsAnErrorNamingThePath) {
  CliDir dir;
  const std::string config = dir.config() + ".relative";
  std::ofstream(config) << "data_dir: ./cordon-data\n";
  for (const char* format : {"text", "json"}) {
    auto r = run_command("cd / && " + cordon_bin() + " incidents --format " + format +
                         " --config " + config + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(r.output.rfind("cordon: the data directory ./cordon-data (/cordon-data) does not "
                             "exist (data_dir of " +
                                 config + "); a relative data_dir is relative",
                             0),
              0u)
        << r.output;
    EXPECT_EQ(r.output.find("no incidents"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists("/cordon-data"));
}

TEST(IncidentsCli, RecordedIncidentIsListedAsJsonAndText) {
  CliDir dir;
  {
    auto store = SqliteIncidentStore::open(dir.db());
    ASSERT_TRUE(store.has_value());
    NewIncident n;
    n.time = Clock::time_point(std::chrono::seconds(1780000000));
    n.sender = "alice@corp.example";
    n.recipients = {"bob@partner.example"};
    n.subject = "customer list";
    n.message_id = "<x@corp.example>";
    n.content_hash = "abc";
    n.policies = {
        {"PCI card numbers", Severity::high, {{"credit_card", "body", 2, {"4111********1111"}}}}};
    ASSERT_TRUE(store.value()->record(n).has_value());
    ASSERT_TRUE(store.value()->record(n).has_value());  // a repeat
  }
  auto r = run_command(cordon_bin() + " incidents --format json --config " + dir.config());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], 1);
  EXPECT_EQ(j[0]["time"], "2026-05-28T20:26:40Z");
  EXPECT_EQ(j[0]["sender"], "alice@corp.example");
  EXPECT_EQ(j[0]["recipients"][0], "bob@partner.example");
  EXPECT_EQ(j[0]["subject"], "customer list");
  EXPECT_EQ(j[0]["message_id"], "<x@corp.example>");
  EXPECT_EQ(j[0]["action"], "block");
  EXPECT_EQ(j[0]["repeat_count"], 1);
  EXPECT_EQ(j[0]["policies"][0]["name"], "PCI card numbers");
  EXPECT_EQ(j[0]["policies"][0]["matches"][0]["samples"][0], "4111********1111");

  auto text = run_command(cordon_bin() + " incidents --config " + dir.config());
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.output.find("alice@corp.example"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("PCI card numbers"), std::string::npos) << text.output;
}

TEST(IncidentsCli, UnreadableConfigExitsTwo) {
  auto r = run_command(cordon_bin() + " incidents --config /nonexistent/cordon.yaml 2>&1");
  EXPECT_EQ(r.exit_code, 2);
}
