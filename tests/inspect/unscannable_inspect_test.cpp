// The pipeline over real messages whose content cordon cannot read: each
// problem the parser and extractor report as unscannable becomes a finding
// (blocked, with an incident, under the default on_unscannable), a note
// does not, flag relays with an incident, and a detection engine failure
// is a scan_failed disposition (deferred), never a pass.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "incidents/sqlite_store.hpp"
#include "inspect/from_config.hpp"
#include "inspect/inspect.hpp"

namespace cordon::inspect {
namespace {

constexpr std::string_view kPolicies = R"yaml(
data_dir: /nonexistent
prevent:
  listen: 127.0.0.1:10025
  mode: forward
  next_hop: 127.0.0.1:10026
mime:
  max_depth: 2
  max_parts: 3
policies:
  - name: Cards
    severity: high
    match: {any: [{identifier: credit_card}]}
    respond:
      - block: "Card numbers may not be sent."
)yaml";

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "cordon-unscan-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string head(std::string_view content_type) {
  return "From: a@corp.test\r\nTo: b@ext.test\r\nSubject: s\r\nMessage-ID: <u1@corp.test>\r\n"
         "MIME-Version: 1.0\r\nContent-Type: " +
         std::string(content_type) + "\r\n\r\n";
}

// Three multiparts deep: past max_depth 2.
std::string too_deep() {
  return head("multipart/mixed; boundary=a") +
         "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
         "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
         "--c\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--c--\r\n--b--\r\n--a--\r\n";
}

std::string too_many_parts() {
  std::string m = head("multipart/mixed; boundary=a");
  for (int i = 0; i < 5; ++i) m += "--a\r\nContent-Type: text/plain\r\n\r\npart\r\n";
  return m + "--a--\r\n";
}

std::string encrypted() {
  return head("multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=a") +
         "--a\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
         "--a\r\nContent-Type: application/octet-stream\r\n\r\n"
         "-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n--a--\r\n";
}

std::string bad_charset() {
  return head("text/plain; charset=utf-8") + "caf\xff\xfe ok\r\n";
}

class UnscannableInspect : public ::testing::Test {
 protected:
  void SetUp() override { use(""); }

  void use(std::string_view extra, detect::ScanFault fault = {}) {
    auto config = config::load_config_text(std::string(extra) + std::string(kPolicies), "t.yaml");
    ASSERT_TRUE(config) << config.error().to_string();
    auto options = options_from(**config);
    options.scan_fault = std::move(fault);
    snapshot_ = make_snapshot(std::move(options));
    auto store = incidents::SqliteIncidentStore::open(dir_.path() + "/incidents.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
  }

  Inspection run(const std::string& content) {
    return inspect(content, policy::Envelope{"a@corp.test", {"b@ext.test"}}, *snapshot_,
                   store_.get());
  }

  static const policy::FiredPolicy* unscannable(const Inspection& r) {
    for (const auto& p : r.verdict.policies)
      if (p.name == policy::kUnscannablePolicy) return &p;
    return nullptr;
  }

  TempDir dir_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<incidents::SqliteIncidentStore> store_;
};

TEST_F(UnscannableInspect, EachUnreadableMessageIsBlockedWithAFindingOfItsKind) {
  struct Case {
    std::string name;
    std::string message;
    std::string rule;
    std::string reply_words;
  };
  for (const auto& c : std::vector<Case>{
           {"depth", too_deep(), "unscannable:mime_depth", "nested too deeply"},
           {"parts", too_many_parts(), "unscannable:mime_parts", "too many parts"},
           {"encrypted", encrypted(), "unscannable:encrypted", "encrypted"},
       }) {
    SCOPED_TRACE(c.name);
    auto r = run(c.message);
    ASSERT_EQ(r.disposition, Disposition::inspected) << r.detail;
    EXPECT_EQ(r.verdict.action, policy::Action::block);
    const auto* p = unscannable(r);
    ASSERT_NE(p, nullptr);
    ASSERT_FALSE(p->matches.empty());
    EXPECT_EQ(p->matches[0].rule, c.rule);
    ASSERT_TRUE(r.incident) << "blocked unread content is an incident";
    // An RFC 5321 reply with the enhanced code, naming what was not read.
    EXPECT_EQ(r.block_reply.rfind("550-5.7.0 Incident ID: " + std::to_string(r.incident->id), 0),
              0u)
        << r.block_reply;
    EXPECT_NE(r.block_reply.find(c.reply_words), std::string::npos) << r.block_reply;
    EXPECT_FALSE(r.problems.empty()) << "problems are still reported";
  }
}

TEST_F(UnscannableInspect, InvalidCharsetBytesAreANoteNotAFinding) {
  auto r = run(bad_charset());
  ASSERT_EQ(r.disposition, Disposition::inspected);
  EXPECT_EQ(r.verdict.action, policy::Action::pass);
  EXPECT_EQ(unscannable(r), nullptr);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].kind, mime::ProblemKind::charset);
}

TEST_F(UnscannableInspect, FlagRelaysTheMessageAndRecordsAnIncident) {
  use("on_unscannable: flag\n");
  auto r = run(encrypted());
  ASSERT_EQ(r.disposition, Disposition::inspected);
  EXPECT_EQ(r.verdict.action, policy::Action::pass);
  EXPECT_NE(unscannable(r), nullptr);
  EXPECT_TRUE(r.incident);
  EXPECT_TRUE(r.block_reply.empty());
}

TEST_F(UnscannableInspect, PassOnlyKeepsTheProblem) {
  use("on_unscannable: pass\n");
  auto r = run(encrypted());
  EXPECT_EQ(r.verdict.action, policy::Action::pass);
  EXPECT_FALSE(r.verdict.violated());
  EXPECT_FALSE(r.incident);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems[0].kind, mime::ProblemKind::encrypted);
}

TEST_F(UnscannableInspect, AnEngineFailureIsScanFailedWithoutAVerdictOrIncident) {
  use("", [](std::string_view text) { return text.find("FAILME") != std::string_view::npos; });
  std::string m = head("text/plain") + "card 4111 1111 1111 1111 FAILME\r\n";
  auto r = run(m);
  EXPECT_EQ(r.disposition, Disposition::scan_failed);
  EXPECT_NE(r.detail.find("detection engine failed on body"), std::string::npos) << r.detail;
  EXPECT_FALSE(r.incident);
  EXPECT_FALSE(r.outgoing) << "nothing to relay";
  EXPECT_TRUE(r.block_reply.empty());
  // The same snapshot goes on scanning other messages.
  auto clean = run(head("text/plain") + "hello\r\n");
  EXPECT_EQ(clean.disposition, Disposition::inspected);
  EXPECT_EQ(clean.verdict.action, policy::Action::pass);
}

TEST(ScanFaultFromEnvironment, IsOffUnlessTheVariableIsSet) {
  ::unsetenv("CORDON_TEST_FAIL_SCAN");
  EXPECT_FALSE(scan_fault_from_environment());
  ::setenv("CORDON_TEST_FAIL_SCAN", "", 1);
  EXPECT_FALSE(scan_fault_from_environment()) << "empty: off";
  ::setenv("CORDON_TEST_FAIL_SCAN", "MARK-123", 1);
  auto fault = scan_fault_from_environment();
  ::unsetenv("CORDON_TEST_FAIL_SCAN");
  ASSERT_TRUE(fault);
  EXPECT_TRUE(fault("x MARK-123 y"));
  EXPECT_FALSE(fault("x MARK-12 y"));
}

}  // namespace
}  // namespace cordon::inspect
