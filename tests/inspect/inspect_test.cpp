// Tests of the per-message decision (inspect()) as the mail path makes it:
// verdicts, filters, loop header, incidents with repeat counting, the
// rewritten message; and as an offline scan makes it (no envelope, no
// deployment, no store).
#include "inspect/inspect.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <filesystem>
#include <future>
#include <thread>

#include "incidents/outbox_store.hpp"
#include "incidents/sqlite_store.hpp"
#include "inspect/answer.hpp"
#include "inspect/from_config.hpp"
#include "inspect/metrics.hpp"
#include "inspect/stamp.hpp"

namespace cordon::inspect {
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
  - name: Review
    match: {any: [{keywords: [holdme]}]}
    respond:
      - hold: "Review by the DLP team"
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

// What the prevent role's adapter builds: the configuration's options plus
// prevent's filters and the deployment.
std::shared_ptr<const Snapshot> prevent_snapshot(const config::Config& config,
                                                 std::optional<Deployment> deployment) {
  auto options = options_from(config);
  options.sender_filter = config.prevent->filters.sender;
  options.recipient_filter = config.prevent->filters.recipient;
  options.deployment = std::move(deployment);
  return make_snapshot(std::move(options));
}

class PreventInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::load_config_text(kConfig, "test.yaml");
    ASSERT_TRUE(config) << config.error().to_string();
    snapshot_ = prevent_snapshot(**config, Deployment{"dep1", "key1"});
    auto store = incidents::SqliteIncidentStore::open(dir_.path() + "/incidents.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
  }

  Inspection run(std::string content, std::string sender = "a@corp.test") {
    return inspect(content, policy::Envelope{std::move(sender), {"b@ext.test"}}, *snapshot_,
                   store_.get());
  }

  TempDir dir_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<incidents::SqliteIncidentStore> store_;
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
  // The body match is stored in its context, the value masked.
  const auto& match = stored->policies[0].matches.at(0);
  EXPECT_EQ(match.component, "body");
  ASSERT_EQ(match.contexts.size(), match.samples.size());
  EXPECT_EQ(match.contexts[0], "card " + match.samples[0]);
  EXPECT_EQ(match.contexts[0].find("1111 1111 1111"), std::string::npos);
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

// A role without a hold queue refuses a held message: it gets the block
// reply, naming its incident, recorded with the action hold.
TEST_F(PreventInspect, HoldIsRecordedAndCarriesTheBlockReply) {
  auto r = run(message("held", "please holdme"));
  EXPECT_EQ(r.verdict.action, policy::Action::hold);
  EXPECT_EQ(r.verdict.hold, "Review by the DLP team");
  ASSERT_TRUE(r.incident);
  EXPECT_EQ(r.block_reply, "550-5.7.0 Incident ID: " + std::to_string(r.incident->id) +
                               "\r\n550 5.7.0 " + std::string(smtp::kGenericBlockText) + "\r\n");
  auto stored = store_->get(r.incident->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->action, incidents::Action::hold);
}

// The gateway's resubmission port takes only messages whose stamp verifies:
// every message prevent relays is stamped after its own edits.
TEST_F(PreventInspect, EveryRelayedMessageCarriesAStampValidForWhatIsRelayed) {
  const Deployment own{"dep1", "key1"};
  for (auto r :
       {run(message("hi", "nothing here")), run(message("status", "about project neptune")),
        run(message("both", "project neptune quarantineme")),
        run(message("pay", "card 4111 1111 1111 1111"), "eve@ignored.test")}) {
    ASSERT_TRUE(r.outgoing);
    EXPECT_EQ(check_stamp(*r.outgoing, own), StampCheck::valid) << r.outgoing->substr(0, 200);
    EXPECT_EQ(check_stamp("Received: from prevent by gw; Mon, 1 Jan 2024\r\n" + *r.outgoing, own),
              StampCheck::valid);
  }
}

TEST_F(PreventInspect, BlockWinsOverEverythingAndRecordsEveryPolicy) {
  auto r = run(message("all", "project neptune quarantineme 4111 1111 1111 1111"));
  EXPECT_EQ(r.verdict.action, policy::Action::block);
  ASSERT_TRUE(r.incident);
  auto stored = store_->get(r.incident->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->policies.size(), 3u);
}

// Offline scans: no SMTP envelope, no deployment, no store.
class OfflineInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::load_config_text(kConfig, "test.yaml");
    ASSERT_TRUE(config) << config.error().to_string();
    config_ = *config;
    snapshot_ = make_snapshot(options_from(*config_));
  }

  Inspection run(std::string_view content) {
    return inspect(content, std::nullopt, *snapshot_, nullptr);
  }

  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const Snapshot> snapshot_;
};

TEST_F(OfflineInspect, BlockReplySaysNotRecordedAndNothingIsStamped) {
  auto r = run(message("pay", "card 4111 1111 1111 1111"));
  EXPECT_EQ(r.disposition, Disposition::inspected);
  EXPECT_EQ(r.verdict.action, policy::Action::block);
  EXPECT_FALSE(r.incident);
  EXPECT_EQ(r.block_reply,
            "550-5.7.0 Incident ID: not recorded\r\n550 5.7.0 Card numbers may not be sent.\r\n");
  EXPECT_FALSE(run(message("hi", "nothing here")).outgoing);
}

TEST_F(OfflineInspect, ModifiedMessageIsEditedWithoutAStamp) {
  auto r = run(message("status", "about project neptune"));
  ASSERT_TRUE(r.outgoing);
  EXPECT_EQ(r.outgoing->rfind("X-DLP: neptune\r\nFrom: a@corp.test\r\n", 0), 0u);
  EXPECT_EQ(r.outgoing->find(kInspectedHeader), std::string::npos);
}

TEST_F(OfflineInspect, AStampIsNoReasonToSkipInspection) {
  auto r = run(stamp(message("pay", "4111 1111 1111 1111"), {"", ""}, "pass", {}));
  EXPECT_EQ(r.disposition, Disposition::inspected);
  EXPECT_EQ(r.verdict.action, policy::Action::block);
}

TEST_F(OfflineInspect, EnvelopeComesFromTheHeadersSoPolicyExceptionsApply) {
  constexpr std::string_view kExcepting = R"yaml(
data_dir: /nonexistent
policies:
  - name: Cards
    match: {any: [{identifier: credit_card}]}
    except: {recipients: ["*@partner.test"]}
    respond:
      - block: "Card numbers may not be sent."
)yaml";
  auto config = config::load_config_text(kExcepting, "test.yaml");
  ASSERT_TRUE(config) << config.error().to_string();
  auto snapshot = make_snapshot(options_from(**config));
  const std::string to_partner =
      "From: A <a@corp.test>\r\nTo: <b@partner.test>\r\nCc: c@partner.test\r\n"
      "Subject: pay\r\n\r\ncard 4111 1111 1111 1111\r\n";
  EXPECT_EQ(inspect(to_partner, std::nullopt, *snapshot, nullptr).verdict.action,
            policy::Action::pass);
  const std::string also_outside = "Bcc: d@ext.test\r\n" + to_partner;
  EXPECT_EQ(inspect(also_outside, std::nullopt, *snapshot, nullptr).verdict.action,
            policy::Action::block);
}

TEST_F(OfflineInspect, FiltersApplyToTheHeaderEnvelope) {
  auto options = options_from(*config_);
  options.sender_filter = "-*@corp.test";
  auto snapshot = make_snapshot(std::move(options));
  auto r = inspect(message("pay", "card 4111 1111 1111 1111"), std::nullopt, *snapshot, nullptr);
  EXPECT_EQ(r.disposition, Disposition::ignored);
  EXPECT_FALSE(r.outgoing);
}

TEST_F(OfflineInspect, EmptyMessageCarriesTheParseError) {
  auto r = run("");
  ASSERT_TRUE(r.parse_error);
  EXPECT_EQ(r.parse_error->code, mime::ParseErrorCode::empty_input);
  EXPECT_EQ(r.verdict.action, policy::Action::pass);
}

TEST_F(OfflineInspect, ProblemsOfTheMessageAreReported) {
  auto r = run("From: a@corp.test\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n");
  EXPECT_EQ(r.disposition, Disposition::inspected);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].detail.find("boundary"), std::string::npos);
}

TEST_F(OfflineInspect, AFilterThatDoesNotParseInspectsEverything) {
  auto options = options_from(*config_);
  options.sender_filter = "-*@corp.test, ,";  // an empty mask: refused
  auto snapshot = make_snapshot(std::move(options));
  auto r = inspect(message("pay", "card 4111 1111 1111 1111"), std::nullopt, *snapshot, nullptr);
  EXPECT_EQ(r.disposition, Disposition::inspected);
  EXPECT_EQ(r.verdict.action, policy::Action::block);
}

// A store whose database refuses every write.
class RefusingStore final : public incidents::IncidentStore {
 public:
  incidents::StoreResult<incidents::RecordOutcome> record(const incidents::NewIncident&) override {
    return fail(incidents::StoreError{incidents::StoreErrorCode::io, "disk I/O error"});
  }
  incidents::StoreResult<incidents::Incident> get(incidents::IncidentId) override {
    return fail(incidents::StoreError{incidents::StoreErrorCode::not_found, ""});
  }
  incidents::StoreResult<std::vector<incidents::Incident>> list(
      const incidents::IncidentQuery&) override {
    return std::vector<incidents::Incident>{};
  }
  incidents::StoreResult<std::int64_t> count(const incidents::IncidentQuery&) override {
    return std::int64_t{0};
  }
  Status<incidents::StoreError> update_status(incidents::IncidentId, incidents::IncidentStatus,
                                              const std::string&,
                                              incidents::Clock::time_point) override {
    return Ok{};
  }
  incidents::StoreResult<incidents::IncidentStats> stats(
      std::optional<incidents::Clock::time_point>, std::optional<incidents::Clock::time_point>,
      std::size_t) override {
    return incidents::IncidentStats{};
  }
};

TEST_F(PreventInspect, AnUnwritableStoreNeverNamesIncidentZero) {
  RefusingStore refusing;
  auto r = inspect(message("pay", "card 4111 1111 1111 1111"),
                   policy::Envelope{"a@corp.test", {"b@ext.test"}}, *snapshot_, &refusing);
  EXPECT_EQ(r.verdict.action, policy::Action::block);
  EXPECT_EQ(r.block_reply.find("Incident ID: 0"), std::string::npos) << r.block_reply;
  EXPECT_EQ(r.block_reply.rfind("550-5.7.0 Incident ID: not recorded\r\n", 0), 0u) << r.block_reply;
  EXPECT_NE(r.detail.find("incident not recorded"), std::string::npos);
}

TEST_F(PreventInspect, AnIncidentKeptInTheOutboxIsNamedByItsReference) {
  incidents::OutboxIncidentStore outbox(std::make_unique<RefusingStore>(),
                                        dir_.path() + "/incident-outbox");
  auto r = inspect(message("pay", "card 4111 1111 1111 1111"),
                   policy::Envelope{"a@corp.test", {"b@ext.test"}}, *snapshot_, &outbox);
  ASSERT_TRUE(r.incident);
  ASSERT_FALSE(r.incident->reference.empty());
  EXPECT_EQ(r.block_reply, "550-5.7.0 Incident ID: " + r.incident->reference +
                               "\r\n550 5.7.0 Card numbers may not be sent.\r\n");
}

// The counters every mail-path role reports, one per outcome; a role
// without a hold queue counts a hold as the block it answers.
TEST_F(PreventInspect, MessageMetricsCountEachOutcomeOnce) {
  util::Metrics registry;
  MessageMetrics prevent(registry, {.role = "prevent", .help = "h", .can_hold = false});
  MessageMetrics milter(registry, {.role = "milter", .help = "h", .can_hold = true});
  auto held = run(message("held", "please holdme"));
  EXPECT_EQ(prevent.count(held), Outcome::blocked);
  EXPECT_EQ(milter.count(held), Outcome::held);
  EXPECT_EQ(prevent.count(run(message("hi", "nothing here"))), Outcome::passed);
  EXPECT_EQ(prevent.count(run(message("pay", "card 4111 1111 1111 1111"), "eve@ignored.test")),
            Outcome::ignored);
  EXPECT_EQ(prevent.count(run(message("s", "about project neptune"))), Outcome::modified);
  EXPECT_EQ(prevent.count(run(message("q", "quarantineme"))), Outcome::redirected);
  prevent.add(Outcome::deferred);
  const std::string text = registry.render_prometheus();
  for (const char* line :
       {"cordon_prevent_messages_total{result=\"blocked\"} 1",
        "cordon_prevent_messages_total{result=\"inspected\"} 4",
        "cordon_prevent_messages_total{result=\"passed\"} 1",
        "cordon_prevent_messages_total{result=\"ignored\"} 1",
        "cordon_prevent_messages_total{result=\"modified\"} 1",
        "cordon_prevent_messages_total{result=\"redirected\"} 1",
        "cordon_prevent_messages_total{result=\"deferred\"} 1",
        "cordon_prevent_messages_total{result=\"refused\"} 0",
        "cordon_milter_messages_total{result=\"held\"} 1", "cordon_prevent_scan_seconds_count 4",
        "cordon_prevent_scan_errors_total 0"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  EXPECT_EQ(text.find("cordon_prevent_messages_total{result=\"held\"}"), std::string::npos);
}

TEST_F(PreventInspect, AnEngineErrorIsCountedAsDeferredAndAsAScanError) {
  util::Metrics registry;
  MessageMetrics metrics(registry, {.role = "milter", .help = "h"});
  Inspection failed;
  failed.disposition = Disposition::scan_failed;
  EXPECT_EQ(metrics.count(failed), Outcome::deferred);
  const std::string text = registry.render_prometheus();
  EXPECT_NE(text.find("cordon_milter_scan_errors_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("cordon_milter_messages_total{result=\"deferred\"} 1"), std::string::npos);
  EXPECT_NE(text.find("cordon_milter_messages_total{result=\"inspected\"} 0"), std::string::npos);
}

// The milter edits the MTA's copy instead of sending a rewritten one: the
// same modify response as header edits.
TEST(HeaderEdits, AddedHeadersKeepTheirOrderOnTopAndTheSubjectIsPrefixedOnce) {
  policy::ModifyOps ops;
  ops.add_headers = {"X-One: 1", "X-Two:  2 ", "no colon"};
  ops.subject_prefix = "[DLP] ";
  std::vector<std::pair<std::string, std::string>> headers = {{"From", "a@x"},
                                                              {"subject", " report"}};
  auto edits = header_edits(ops, headers);
  ASSERT_EQ(edits.size(), 3u);
  // Each goes to the top in turn, so the last added comes first.
  EXPECT_EQ(edits[0].kind, HeaderEdit::Kind::insert_top);
  EXPECT_EQ(edits[0].name, "X-Two");
  EXPECT_EQ(edits[0].value, "2");
  EXPECT_EQ(edits[1].name, "X-One");
  EXPECT_EQ(edits[2].kind, HeaderEdit::Kind::change);
  EXPECT_EQ(edits[2].index, 1u);
  EXPECT_EQ(edits[2].name, "subject");
  EXPECT_EQ(edits[2].value, "[DLP] report");

  headers[1].second = "[DLP] report";
  ops.add_headers.clear();
  EXPECT_TRUE(header_edits(ops, headers).empty());
  headers.pop_back();
  auto added = header_edits(ops, headers);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].kind, HeaderEdit::Kind::add);
  EXPECT_EQ(added[0].value, "[DLP]");
}

TEST_F(PreventInspect, InspectionOnTheWorkerPoolResumesOnTheCallersThread) {
  asio::io_context io;
  asio::thread_pool workers(1);
  auto job = std::make_shared<Job>();
  job->message = std::make_shared<const std::string>(message("pay", "card 4111 1111 1111 1111"));
  job->envelope = policy::Envelope{"a@corp.test", {"b@ext.test"}};
  job->snapshot = snapshot_;
  std::thread::id resumed_on;
  auto done = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<Inspection> {
        auto r = co_await inspect_on(workers, job);
        resumed_on = std::this_thread::get_id();
        co_return r;
      },
      asio::use_future);
  io.run();
  auto r = done.get();
  workers.join();
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
  EXPECT_EQ(r.verdict.action, policy::Action::block);
  EXPECT_EQ(incident_reference(r), std::string(smtp::kNoIncidentReference));
}

// With the only worker busy, a small plain-text message is still inspected
// (on the caller's thread), while a large or encoded one waits for the pool.
TEST_F(PreventInspect, SmallPlainMessagesAreInspectedOnTheCallersThreadOthersOnThePool) {
  asio::io_context io;
  asio::thread_pool workers(1);
  std::promise<void> release;
  asio::post(workers, [gate = release.get_future().share()] { gate.wait(); });
  auto start = [&](std::string text) {
    auto job = std::make_shared<Job>();
    job->message = std::make_shared<const std::string>(std::move(text));
    job->envelope = policy::Envelope{"a@corp.test", {"b@ext.test"}};
    job->snapshot = snapshot_;
    return asio::co_spawn(io, inspect_on(workers, job), asio::use_future);
  };
  // Not run(): a job sent to the pool would never end; and run_for() may
  // return before its time once the reactor ran without a handler.
  auto run_until_ready = [&](std::future<Inspection>& f, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
           std::chrono::steady_clock::now() < end) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
  };
  auto small = start(message("hello", "just words"));
  run_until_ready(small, std::chrono::seconds(5));
  ASSERT_EQ(small.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(small.get().verdict.action, policy::Action::pass);

  io.restart();
  auto large = start(message("big", std::string(kInlineInspectionLimit, 'x')));
  auto encoded = start(
      "From: a@corp.test\r\nTo: b@ext.test\r\nSubject: z\r\nContent-Transfer-Encoding: "
      "base64\r\n\r\naGVsbG8=\r\n");
  // Every case of the encodings' names, uuencode, 8-bit and NUL bytes too.
  std::vector<std::future<Inspection>> pooled;
  const std::vector<std::string> bodies = {
      "Content-Transfer-Encoding: Quoted-Printable\r\n\r\nx=41\r\n",
      "Content-Transfer-Encoding: BASE64\r\n\r\naGVsbG8=\r\n",
      "Subject: u\r\n\r\nBEGIN 644 a.txt\r\n#86)C\r\n`\r\nend\r\n",
      "Subject: caf\xc3\xa9\r\n\r\nx\r\n", std::string("Subject: n\r\n\r\na\0b\r\n", 19)};
  for (const auto& body : bodies)
    pooled.push_back(start("From: a@corp.test\r\nTo: b@ext.test\r\n" + body));
  run_until_ready(large, std::chrono::milliseconds(200));
  run_until_ready(encoded, std::chrono::milliseconds(200));
  EXPECT_NE(large.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_NE(encoded.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  for (auto& f : pooled) {
    run_until_ready(f, std::chrono::milliseconds(50));
    EXPECT_NE(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  }
  release.set_value();
  io.restart();
  io.run();
  workers.join();
  EXPECT_EQ(large.get().disposition, Disposition::inspected);
  EXPECT_EQ(encoded.get().disposition, Disposition::inspected);
  for (auto& f : pooled) EXPECT_EQ(f.get().disposition, Disposition::inspected);
}

}  // namespace
}  // namespace cordon::inspect
