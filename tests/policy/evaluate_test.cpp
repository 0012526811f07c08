// Policy evaluation over hand-built messages with the real detection engine:
// any/all, unique-value min_count per component and per message, component
// restriction, exceptions, response precedence, severity tiers.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "policy/evaluate.hpp"

using namespace cordon::config;
using namespace cordon::policy;
using cordon::mime::Component;
using cordon::mime::ComponentKind;
using cordon::mime::Message;

namespace {

std::shared_ptr<const Config> load(const std::string& policies_yaml) {
  auto r = load_config_text("console:\npolicies:\n" + policies_yaml, "test.yaml");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

Component component(ComponentKind kind, std::string name, std::string text) {
  Component c;
  c.kind = kind;
  c.name = std::move(name);
  c.text = std::move(text);
  return c;
}

Message message(std::string subject, std::string body) {
  Message m;
  m.subject = subject;
  m.components.push_back(component(ComponentKind::subject, "subject", subject));
  m.components.push_back(component(ComponentKind::body, "body", body));
  return m;
}

void add_attachment(Message& m, std::string name, std::string text) {
  Component c = component(ComponentKind::attachment, "attachment:" + name, text);
  c.filename = name;
  c.declared_type = "text/plain";
  c.data = text;
  m.components.push_back(std::move(c));
}

Verdict run(const Config& c, const Message& m,
            Envelope env = {"alice@corp.example", {"bob@ext.example"}}) {
  Evaluator e(c.policy_set);
  auto v = e.evaluate(m, env);
  if (!v) {
    ADD_FAILURE() << v.error().describe();
    return {};
  }
  return std::move(v).value();
}

const char* kAcmeBlock = R"(  - name: Project codes
    severity: medium
    match:
      any:
        - regex: 'ACME-[0-9]{6}'
          min_count: 2
    respond:
      - block: "Project codes may not leave the company."
)";

}  // namespace

TEST(Evaluate, CleanMessagePasses) {
  auto c = load(kAcmeBlock);
  auto v = run(*c, message("hello", "nothing to see here"));
  EXPECT_EQ(v.action, Action::pass);
  EXPECT_FALSE(v.violated());
  EXPECT_TRUE(v.block_texts.empty());
}

TEST(Evaluate, MinCountCountsUniqueValuesNotOccurrences) {
  auto c = load(kAcmeBlock);
  auto repeated = run(*c, message("s", "ACME-123456 and again ACME-123456 and ACME-123456"));
  EXPECT_EQ(repeated.action, Action::pass) << "one unique value three times is below min_count 2";

  auto two = run(*c, message("s", "ACME-123456 then ACME-654321 then ACME-123456"));
  ASSERT_EQ(two.action, Action::block);
  ASSERT_EQ(two.policies.size(), 1u);
  EXPECT_EQ(two.policies[0].name, "Project codes");
  EXPECT_EQ(two.policies[0].severity, Severity::medium);
  ASSERT_EQ(two.policies[0].matches.size(), 1u);
  const RuleMatch& m = two.policies[0].matches[0];
  EXPECT_EQ(m.rule, "regex:ACME-[0-9]{6}");
  EXPECT_EQ(m.component, "body");
  EXPECT_EQ(m.count, 2u);
  ASSERT_EQ(m.samples.size(), 2u);
  for (const auto& s : m.samples) {
    EXPECT_NE(s, "ACME-123456");
    EXPECT_NE(s, "ACME-654321");
    EXPECT_NE(s.find('*'), std::string::npos) << s;
  }
  EXPECT_EQ(two.block_texts, std::vector<std::string>{"Project codes may not leave the company."});
}

TEST(Evaluate, PerComponentScopeDoesNotAddUpAcrossComponents) {
  auto per_component = load(kAcmeBlock);
  Message m = message("ACME-111111", "ACME-222222");
  EXPECT_EQ(run(*per_component, m).action, Action::pass);

  auto per_message = load(std::string(kAcmeBlock) + "    min_count_scope: per_message\n");
  auto v = run(*per_message, m);
  ASSERT_EQ(v.action, Action::block);
  ASSERT_EQ(v.policies[0].matches.size(), 2u);
  EXPECT_EQ(v.policies[0].matches[0].component, "subject");
  EXPECT_EQ(v.policies[0].matches[0].count, 1u);
  EXPECT_EQ(v.policies[0].matches[1].component, "body");
}

TEST(Evaluate, ComponentsRestrictWhereRulesLook) {
  auto c = load(R"(  - name: Subject only
    components: [subject]
    match: {any: [{keywords: [secret]}]}
    respond: [{block: "no"}]
  - name: Attachments only
    components: [attachments]
    match: {any: [{keywords: [secret]}]}
    respond: [{modify: {subject_prefix: "[A] "}}]
)");
  Message body_only = message("hello", "this is secret");
  EXPECT_FALSE(run(*c, body_only).violated());

  Message in_attachment = message("hello", "hi");
  add_attachment(in_attachment, "notes.txt", "a secret plan");
  auto v = run(*c, in_attachment);
  ASSERT_EQ(v.policies.size(), 1u);
  EXPECT_EQ(v.policies[0].name, "Attachments only");
  EXPECT_EQ(v.policies[0].matches.at(0).component, "attachment:notes.txt");
  EXPECT_EQ(v.action, Action::modify);
  EXPECT_EQ(v.modify.subject_prefix, "[A] ");
}

TEST(Evaluate, AllModeNeedsEveryRule) {
  auto c = load(R"(  - name: Neptune codes
    match:
      all:
        - keywords: ["project neptune"]
        - regex: 'ACME-[0-9]{6}'
    respond: [{block: "no"}]
)");
  EXPECT_FALSE(run(*c, message("s", "about project neptune")).violated());
  EXPECT_FALSE(run(*c, message("s", "code ACME-123456")).violated());
  auto v = run(*c, message("Project Neptune", "code ACME-123456"));
  ASSERT_TRUE(v.violated());
  ASSERT_EQ(v.policies[0].matches.size(), 2u);
  EXPECT_EQ(v.policies[0].matches[0].rule, "keywords");
  EXPECT_EQ(v.policies[0].matches[0].component, "subject");
  EXPECT_EQ(v.policies[0].matches[1].rule, "regex:ACME-[0-9]{6}");
}

TEST(Evaluate, ExceptSendersAndRecipients) {
  auto c = load(R"(  - name: Codes
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
    except:
      senders: ["*@trusted.example"]
      recipients: ["*@partner.example", "audit@*"]
    respond: [{block: "no"}]
)");
  Message m = message("s", "ACME-123456");
  EXPECT_TRUE(run(*c, m, {"alice@corp.example", {"x@ext.example"}}).violated());
  EXPECT_FALSE(run(*c, m, {"Bob@TRUSTED.example", {"x@ext.example"}}).violated());
  EXPECT_FALSE(run(*c, m, {"<bob@trusted.example>", {"x@ext.example"}}).violated());
  // Every recipient excepted: no violation.
  EXPECT_FALSE(
      run(*c, m, {"alice@corp.example", {"a@partner.example", "audit@corp.example"}}).violated());
  // One recipient outside the list keeps the policy in force.
  EXPECT_TRUE(
      run(*c, m, {"alice@corp.example", {"a@partner.example", "x@ext.example"}}).violated());
  // No recipients at all: never excepted by recipient.
  EXPECT_TRUE(run(*c, m, {"alice@corp.example", {}}).violated());
}

TEST(Evaluate, BlockBeatsRedirectBeatsModifyAndEveryFiredPolicyIsRecorded) {
  const std::string modify = R"(  - name: Tag
    severity: low
    match: {any: [{keywords: [internal]}]}
    respond: [{modify: {subject_prefix: "[INTERNAL] ", add_header: ["X-DLP: tag", "X-DLP-2: yes"]}}]
)";
  const std::string redirect = R"(  - name: Quarantine
    match: {any: [{keywords: [invoice]}]}
    respond: [{redirect: quarantine@corp.example}, {modify: {add_header: "X-DLP: tag"}}]
  - name: Quarantine two
    match: {any: [{keywords: [invoice]}]}
    respond: [{redirect: second@corp.example}]
)";
  const std::string block = R"(  - name: Codes
    severity: high
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
    respond: [{block: "Codes are blocked."}]
  - name: Codes again
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
    respond: [{block: "Second text."}]
)";
  auto c = load(modify + redirect + block);

  auto v1 = run(*c, message("s", "internal note"));
  EXPECT_EQ(v1.action, Action::modify);
  EXPECT_EQ(v1.modify.subject_prefix, "[INTERNAL] ");
  EXPECT_EQ(v1.modify.add_headers, (std::vector<std::string>{"X-DLP: tag", "X-DLP-2: yes"}));

  auto v2 = run(*c, message("s", "internal invoice"));
  EXPECT_EQ(v2.action, Action::redirect);
  EXPECT_EQ(v2.redirect, "quarantine@corp.example");
  EXPECT_EQ(v2.policies.size(), 3u);
  EXPECT_EQ(v2.modify.add_headers.size(), 2u) << "identical headers are added once";

  auto v3 = run(*c, message("s", "internal invoice ACME-123456"));
  EXPECT_EQ(v3.action, Action::block);
  ASSERT_EQ(v3.policies.size(), 5u);
  EXPECT_EQ(v3.policies[0].name, "Tag");
  EXPECT_EQ(v3.policies[4].name, "Codes again");
  EXPECT_EQ(v3.block_texts, (std::vector<std::string>{"Codes are blocked.", "Second text."}));
}

TEST(Evaluate, HoldRanksBetweenBlockAndRedirectAndTheFirstReasonWins) {
  auto c = load(R"(  - name: Quarantine
    match: {any: [{keywords: [invoice]}]}
    respond: [{redirect: quarantine@corp.example}]
  - name: Review
    match: {any: [{keywords: [invoice, merger]}]}
    respond: [{hold: "Review by the DLP team"}]
  - name: Review again
    match: {any: [{keywords: [merger]}]}
    respond: [{hold: "Second reason"}]
  - name: Codes
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
    respond: [{block: "Codes are blocked."}]
)");
  auto held = run(*c, message("s", "invoice"));
  EXPECT_EQ(held.action, Action::hold);
  EXPECT_EQ(held.hold, "Review by the DLP team");
  EXPECT_EQ(to_string(held.action), "hold");
  EXPECT_EQ(run(*c, message("s", "merger invoice")).hold, "Review by the DLP team");
  EXPECT_EQ(run(*c, message("s", "invoice ACME-123456")).action, Action::block);
}

TEST(Evaluate, PolicyWithoutResponsesRecordsButPasses) {
  auto c = load("  - name: Watch\n    match: {any: [{keywords: [merger]}]}\n");
  auto v = run(*c, message("merger plans", ""));
  EXPECT_EQ(v.action, Action::pass);
  ASSERT_TRUE(v.violated());
  EXPECT_EQ(v.policies[0].name, "Watch");
}

TEST(Evaluate, SeverityTiersRaiseSeverityByUniqueCount) {
  auto c = load(R"(  - name: Codes
    severity: low
    severity_tiers: [{min_count: 3, severity: medium}, {min_count: 6, severity: high}]
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
)");
  EXPECT_EQ(run(*c, message("s", "ACME-000001 ACME-000002")).policies.at(0).severity,
            Severity::low);
  EXPECT_EQ(run(*c, message("s", "ACME-000001 ACME-000002 ACME-000003")).policies.at(0).severity,
            Severity::medium);
  std::string many;
  for (int i = 1; i <= 8; ++i) many += "ACME-00000" + std::to_string(i) + " ";
  auto v = run(*c, message("s", many));
  EXPECT_EQ(v.policies.at(0).severity, Severity::high);
  EXPECT_EQ(v.policies[0].matches.at(0).count, 8u);
  EXPECT_EQ(v.policies[0].matches[0].samples.size(), kMaxSamples) << "samples are capped";
}

TEST(Evaluate, EnvelopeIsAComponent) {
  auto c = load(R"(  - name: Competitor
    components: [envelope]
    match: {any: [{regex: '@rival\.example'}]}
    respond: [{block: "no"}]
)");
  Message m = message("hi", "nothing @rival.example here but only the envelope counts");
  EXPECT_FALSE(run(*c, m, {"a@corp.example", {"b@ext.example"}}).violated());
  auto v = run(*c, m, {"a@corp.example", {"b@ext.example", "ceo@rival.example"}});
  ASSERT_TRUE(v.violated());
  EXPECT_EQ(v.policies[0].matches.at(0).component, "envelope");
}

TEST(Evaluate, CardNumbersAreValidatedAndMasked) {
  auto c = load(R"(  - name: Cards
    match: {any: [{identifier: credit_card}]}
    respond: [{block: "no cards"}]
)");
  EXPECT_FALSE(run(*c, message("s", "order 4111 1111 1111 1112 shipped")).violated())
      << "Luhn-invalid";
  auto v = run(*c, message("s", "card 4111 1111 1111 1111 exp 12/29"));
  ASSERT_TRUE(v.violated());
  const auto& m = v.policies[0].matches.at(0);
  EXPECT_EQ(m.rule, "identifier:credit_card");
  EXPECT_EQ(m.count, 1u);
  ASSERT_EQ(m.samples.size(), 1u);
  EXPECT_EQ(m.samples[0].find("4111 1111 1111 1111"), std::string::npos);
  EXPECT_EQ(m.samples[0].find("4111111111111111"), std::string::npos);
}

TEST(Evaluate, SnapshotWithoutPoliciesAlwaysPasses) {
  auto r = load_config_text("console:\n", "empty.yaml");
  ASSERT_TRUE(r);
  Evaluator e((*r)->policy_set);
  auto v = e.evaluate(message("ACME-123456", "4111 1111 1111 1111"), {});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, Action::pass);
}
