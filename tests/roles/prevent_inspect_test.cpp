// Tests of the prevent role's per-message decision (inspect()): verdicts,
// filters, loop header, incidents with repeat counting, the rewritten
// message, evaluator reuse, and the deployment id.
#include "roles/prevent/prevent_inspect.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "incidents/sqlite_store.hpp"
#include "roles/prevent/prevent_message.hpp"
#include "roles/prevent/prevent_role.hpp"

namespace cordon::roles::prevent {
namespace {

constexpr std::string_view kConfig = R"yaml(
data_dir: /nonexistent
prevent:
  listen: 127.0.0.1:10025
  mode: forward
  next_hop: 127.0.0.1:10026
  filters: {sender: "-*@ignored.test", recipient: ""}
policies:
  - name: Cards
    severity: high
    match: {any: [{identifier: credit_card}]}
    respond:
      - block: "Card numbers may not be sent."
  - name: Neptune
    match: {any: [{keywords: [project neptune]}]}
    respond:
      - modify: {subject_prefix: "[DLP] ", add_header: "X-DLP: neptune"}
  - name: Quarantine
    match: {any: [{keywords: [quarantineme]}]}
    respond:
      - redirect: quarantine@example.com
)yaml";

std::string message(std::string_view subject, std::string_view body) {
  return "From: a@corp.test\r\nTo: b@ext.test\r\nSubject: " + std::string(subject) +
         "\r\nMessage-ID: <m1@corp.test>\r\n\r\n" + std::string(body) + "\r\n";
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "cordon-prevent-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class PreventInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::load_config_text(kConfig, "test.yaml");
    ASSERT_TRUE(config) << config.error().to_string();
    policy_ = make_snapshot_policy(*config);
    auto store = incidents::SqliteIncidentStore::open(dir_.path() + "/incidents.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
  }

  Inspection run(std::string content, std::string sender = "a@corp.test") {
    InspectInput input;
    input.message = std::make_shared<const std::string>(std::move(content));
    input.policy = policy_;
    input.envelope = {std::move(sender), {"b@ext.test"}};
    input.deployment = {"dep1", "key1"};
    return inspect(input, pool_, store_.get());
  }

  TempDir dir_;
  std::shared_ptr<const SnapshotPolicy> policy_;
  std::unique_ptr<incidents::SqliteIncidentStore> store_;
  EvaluatorPool pool_;
};

TEST_F(PreventInspect, CleanMessagePassesWithTheInspectedHeaderAndNoIncident) {
  auto r = run(message("hi", "nothing here"));
  EXPECT_EQ(r.disposition, Disposition::inspected);
  EXPECT_EQ(r.verdict.action, policy::Action::pass);
  EXPECT_FALSE(r.incident);
  ASSERT_TRUE(r.outgoing);
  EXPECT_EQ(*r.outgoing, stamp(message("hi", "nothing here"), {"dep1", "key1"}, "pass", {}));
  EXPECT_EQ(r.outgoing->rfind("X-Cordon-Inspected: dep1; pass; mac=", 0), 0u);
}

TEST_F(PreventInspect, CardNumberIsBlockedWithTheIncidentIdInTheReply) {
  auto r = run(message("pay", "card 4111 1111 1111 1111"));
  EXPECT_EQ(r.verdict.action, policy::Action::block);
  ASSERT_TRUE(r.incident);
  EXPECT_EQ(r.block_reply, "550-5.7.0 Incident ID: " + std::to_string(r.incident->id) +
                               "\r\n550 5.7.0 Card numbers may not be sent.\r\n");
  EXPECT_FALSE(r.outgoing);
  auto stored = store_->get(r.incident->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->subject, "pay");
  EXPECT_EQ(stored->message_id, "m1@corp.test");
  EXPECT_EQ(stored->action, incidents::Action::block);
  ASSERT_EQ(stored->policies.size(), 1u);
  for (const auto& m : stored->policies[0].matches)
    for (const auto& s : m.samples) EXPECT_EQ(s.find("4111111111111111"), std::string::npos);
}

TEST_F(PreventInspect, ResentMessageWithANewReceivedHeaderIsTheSameIncident) {
  auto first = run(message("pay", "card 4111 1111 1111 1111"));
  auto again = run("Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
                   message("pay", "card 4111 1111 1111 1111"));
  ASSERT_TRUE(first.incident && again.incident);
  EXPECT_EQ(first.incident->id, again.incident->id);
  EXPECT_TRUE(again.incident->repeated);
  EXPECT_EQ(again.incident->repeat_count, 1);
  EXPECT_NE(again.block_reply.find("Incident ID: " + std::to_string(first.incident->id)),
            std::string::npos);
}

TEST_F(PreventInspect, FilteredSenderIsIgnoredEvenWithACardNumber) {
  auto r = run(message("pay", "card 4111 1111 1111 1111"), "eve@ignored.test");
  EXPECT_EQ(r.disposition, Disposition::ignored);
  EXPECT_FALSE(r.incident);
  ASSERT_TRUE(r.outgoing);
  EXPECT_EQ(r.outgoing->rfind("X-Cordon-Inspected: dep1; ignored; mac=", 0), 0u);
}

TEST_F(PreventInspect, OwnStampSkipsInspectionAndRelaysTheOriginal) {
  auto r = run(stamp(message("pay", "4111 1111 1111 1111"), {"dep1", "key1"}, "ignored", {}));
  EXPECT_EQ(r.disposition, Disposition::loop);
  EXPECT_FALSE(r.outgoing);
  EXPECT_FALSE(r.incident);
}

TEST_F(PreventInspect, ForeignOrForgedStampIsInspected) {
  const std::string card = message("pay", "4111 1111 1111 1111");
  for (const auto& forged :
       {stamp(card, {"dep2", "key1"}, "pass", {}), stamp(card, {"dep1", "bad"}, "pass", {})}) {
    auto r = run(forged);
    EXPECT_EQ(r.disposition, Disposition::inspected);
    EXPECT_EQ(r.verdict.action, policy::Action::block);
  }
}

TEST_F(PreventInspect, ModifyRewritesSubjectAndHeadersAndNamesTheIncident) {
  auto r = run(message("status", "about project neptune"));
  EXPECT_EQ(r.verdict.action, policy::Action::modify);
  ASSERT_TRUE(r.incident && r.outgoing);
  EXPECT_EQ(r.outgoing->rfind("X-Cordon-Inspected: dep1; modify; incident=" +
                                  std::to_string(r.incident->id) + "; mac=",
                              0),
            0u);
  EXPECT_NE(r.outgoing->find("\r\nX-DLP: neptune\r\nFrom: a@corp.test\r\n"), std::string::npos);
  EXPECT_NE(r.outgoing->find("Subject: [DLP] status\r\n"), std::string::npos);
}

TEST_F(PreventInspect, RedirectWinsOverModifyAndKeepsTheModification) {
  auto r = run(message("both", "project neptune quarantineme"));
  EXPECT_EQ(r.verdict.action, policy::Action::redirect);
  EXPECT_EQ(r.verdict.redirect, "quarantine@example.com");
  EXPECT_EQ(r.verdict.policies.size(), 2u);
  ASSERT_TRUE(r.outgoing);
  EXPECT_NE(r.outgoing->find("Subject: [DLP] both"), std::string::npos);
}

TEST_F(PreventInspect, BlockWinsOverEverythingAndRecordsEveryPolicy) {
  auto r = run(message("all", "project neptune quarantineme 4111 1111 1111 1111"));
  EXPECT_EQ(r.verdict.action, policy::Action::block);
  ASSERT_TRUE(r.incident);
  auto stored = store_->get(r.incident->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->policies.size(), 3u);
}

TEST(PreventEvaluatorPool, ReusesAnEvaluatorForTheSameSnapshotOnly) {
  auto a = config::load_config_text(kConfig, "a.yaml");
  auto b = config::load_config_text(kConfig, "b.yaml");
  ASSERT_TRUE(a && b);
  EvaluatorPool pool;
  policy::Evaluator* first = nullptr;
  {
    auto lease = pool.acquire(*a);
    first = &*lease;
  }
  {
    auto lease = pool.acquire(*a);
    EXPECT_EQ(&*lease, first);
    auto second = pool.acquire(*a);
    EXPECT_NE(&*second, first);
  }
  auto other = pool.acquire(*b);
  EXPECT_EQ(other->policy_set(), (*b)->policy_set);
}

TEST(PreventDeployment, IsCreatedOnceAndStableAcrossCalls) {
  TempDir one, two;
  auto a = load_or_create_deployment(one.path() + "/data");
  auto again = load_or_create_deployment(one.path() + "/data");
  auto b = load_or_create_deployment(two.path());
  ASSERT_TRUE(a && again && b);
  EXPECT_EQ(a->id, again->id);
  EXPECT_EQ(a->key, again->key);
  EXPECT_NE(a->id, b->id);
  EXPECT_NE(a->key, b->key);
  EXPECT_EQ(a->id.size(), 32u);
  EXPECT_EQ(a->key.size(), 64u);
  auto perms = std::filesystem::status(one.path() + "/data/deployment-key").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

}  // namespace
}  // namespace cordon::roles::prevent
