// Content cordon could not read as findings of their own: each unscannable
// problem kind fires the built-in unscannable policy under on_unscannable
// block (the default), flag and pass; notes do not; the reply names what
// was not read; the setting is read from the configuration; and a scan the
// engine fails is an error, never a pass.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "policy/evaluate.hpp"

using namespace cordon::config;
using namespace cordon::policy;
using cordon::mime::Component;
using cordon::mime::ComponentKind;
using cordon::mime::Message;
using cordon::mime::Problem;
using cordon::mime::ProblemKind;

namespace {

constexpr std::string_view kPolicies = R"(policies:
  - name: Cards
    severity: high
    match: {any: [{identifier: credit_card}]}
    respond:
      - block: "Card numbers may not be sent."
)";

std::shared_ptr<const Config> load(std::string_view top = "") {
  auto r = load_config_text("console:\n" + std::string(top) + std::string(kPolicies), "test.yaml");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

Message message(std::string body, std::vector<Problem> problems = {}) {
  Message m;
  Component c;
  c.kind = ComponentKind::body;
  c.name = "body";
  c.text = std::move(body);
  m.components.push_back(std::move(c));
  m.problems = std::move(problems);
  return m;
}

Verdict run(const Config& c, const Message& m, cordon::detect::ScanFault fault = {}) {
  Evaluator e(c.policy_set, std::move(fault));
  auto v = e.evaluate(m, {"alice@corp.example", {"bob@ext.example"}});
  if (!v) {
    ADD_FAILURE() << v.error().describe();
    return {};
  }
  return std::move(v).value();
}

const FiredPolicy* fired(const Verdict& v, std::string_view name) {
  for (const auto& p : v.policies)
    if (p.name == name) return &p;
  return nullptr;
}

constexpr ProblemKind kUnscannable[] = {
    ProblemKind::mime_depth,         ProblemKind::mime_parts,
    ProblemKind::mime_boundary,      ProblemKind::header_limit,
    ProblemKind::encrypted,          ProblemKind::decode_error,
    ProblemKind::decoded_size_limit, ProblemKind::extractor_unavailable};
constexpr ProblemKind kNotes[] = {ProblemKind::malformed, ProblemKind::transfer_encoding,
                                  ProblemKind::charset};

}  // namespace

TEST(Unscannable, EveryUnscannableKindBlocksByDefaultAsAFindingOfItsOwnKind) {
  auto c = load();
  for (ProblemKind kind : kUnscannable) {
    SCOPED_TRACE(std::string(cordon::mime::to_string(kind)));
    EXPECT_TRUE(cordon::mime::is_unscannable(kind));
    auto v = run(*c, message("clean text", {{kind, "part 1.2", "what happened in part 1.2"}}));
    EXPECT_EQ(v.action, Action::block);
    const FiredPolicy* p = fired(v, kUnscannablePolicy);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->severity, Severity::high);
    ASSERT_EQ(p->matches.size(), 1u);
    EXPECT_EQ(p->matches[0].rule, "unscannable:" + std::string(cordon::mime::to_string(kind)));
    EXPECT_EQ(p->matches[0].component, "part 1.2");
    EXPECT_EQ(p->matches[0].samples, std::vector<std::string>{"what happened in part 1.2"});
    ASSERT_EQ(v.block_texts.size(), 1u);
    EXPECT_NE(v.block_texts[0].find("part 1.2: " + std::string(cordon::mime::describe(kind))),
              std::string::npos)
        << v.block_texts[0];
  }
}

TEST(Unscannable, NotesAreNotFindings) {
  auto c = load();
  for (ProblemKind kind : kNotes) {
    SCOPED_TRACE(std::string(cordon::mime::to_string(kind)));
    EXPECT_FALSE(cordon::mime::is_unscannable(kind));
    auto v = run(*c, message("clean text", {{kind, "part 1", "3 invalid utf-8 sequence(s)"}}));
    EXPECT_EQ(v.action, Action::pass);
    EXPECT_FALSE(v.violated());
  }
}

TEST(Unscannable, ExtractionLimitsAreLeftToOnLimit) {
  // attachments.on_limit decides these (the limit policy, with the
  // expansion); they are not counted twice.
  auto c = load();
  auto v = run(*c, message("clean", {{ProblemKind::extraction_limit, "attachment:a.zip", "x"}}));
  EXPECT_EQ(fired(v, kUnscannablePolicy), nullptr);
}

TEST(Unscannable, BlockNamesTheUnreadPlacesAndJoinsOtherBlocks) {
  auto c = load();
  auto v = run(*c, message("card 4111 1111 1111 1111",
                           {{ProblemKind::encrypted, "attachment:payroll.zip/payroll.xlsx", "e"},
                            {ProblemKind::charset, "part 2", "note"},
                            {ProblemKind::mime_depth, "part 1.1.1", "d"},
                            {ProblemKind::encrypted, "attachment:payroll.zip/payroll.xlsx", "e2"},
                            {ProblemKind::decode_error, "attachment:b.pdf", "p"},
                            {ProblemKind::mime_parts, "part 3", "n"},
                            {ProblemKind::header_limit, "", "h"}}));
  EXPECT_EQ(v.action, Action::block);
  ASSERT_NE(fired(v, "Cards"), nullptr);
  const FiredPolicy* p = fired(v, kUnscannablePolicy);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->matches.size(), 6u) << "one finding per unscannable problem, notes left out";
  EXPECT_EQ(p->matches.back().component, "message");
  ASSERT_EQ(v.block_texts.size(), 2u);
  EXPECT_EQ(v.block_texts[1],
            "Your message was not sent: part of it could not be inspected (payroll.zip/"
            "payroll.xlsx: encrypted, part 1.1.1: nested too deeply, b.pdf: unreadable and 2 "
            "more). Send it without encryption and within the size limits, or ask your mail "
            "administrator.");
}

TEST(Unscannable, FlagRecordsWithoutBlockingAndPassOnlyKeepsTheProblem) {
  const Message m = message("clean", {{ProblemKind::encrypted, "attachment:a.zip", "enc"}});
  auto flag = run(*load("on_unscannable: flag\n"), m);
  EXPECT_EQ(flag.action, Action::pass);
  EXPECT_TRUE(flag.violated()) << "an incident is recorded";
  EXPECT_NE(fired(flag, kUnscannablePolicy), nullptr);
  EXPECT_TRUE(flag.block_texts.empty());

  auto pass = run(*load("on_unscannable: pass\n"), m);
  EXPECT_EQ(pass.action, Action::pass);
  EXPECT_FALSE(pass.violated());
}

TEST(Unscannable, LongFormSetsSeverityAndReply) {
  auto c = load(
      "on_unscannable:\n  action: block\n  severity: medium\n  reply: \"Unreadable: {what}.\"\n");
  EXPECT_EQ(c->on_unscannable.action, UnscannableAction::block);
  auto v = run(*c, message("clean", {{ProblemKind::mime_parts, "part 9", "n"}}));
  const FiredPolicy* p = fired(v, kUnscannablePolicy);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->severity, Severity::medium);
  EXPECT_EQ(v.block_texts, std::vector<std::string>{"Unreadable: part 9: too many parts."});
}

TEST(Unscannable, ConfigurationErrorsNameTheKey) {
  auto bad = load_config_text("console:\non_unscannable: ignore\n", "bad.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("on_unscannable"), std::string::npos)
      << bad.error().to_string();
  auto unknown = load_config_text("console:\non_unscannable: {action: flag, text: x}\n", "u.yaml");
  ASSERT_FALSE(unknown);
  auto empty = load_config_text("console:\non_unscannable: {reply: \" \"}\n", "e.yaml");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().to_string().find("on_unscannable.reply"), std::string::npos);
  auto absent = load_config_text("console:\n", "a.yaml");
  ASSERT_TRUE(absent);
  EXPECT_EQ((*absent)->on_unscannable.action, UnscannableAction::block) << "safe default";
}

TEST(Unscannable, PolicyExceptionsDoNotExceptUnreadContent) {
  auto c = load_config_text(R"(console:
policies:
  - name: Cards
    match: {any: [{identifier: credit_card}]}
    except: {senders: ["*@corp.example"]}
    respond:
      - block: "no"
)",
                            "x.yaml");
  ASSERT_TRUE(c);
  auto v = run(**c, message("clean", {{ProblemKind::encrypted, "attachment:a.zip", "enc"}}));
  EXPECT_EQ(v.action, Action::block);
  EXPECT_NE(fired(v, kUnscannablePolicy), nullptr);
}

TEST(Unscannable, AFailedScanIsAnErrorNotAPass) {
  auto c = load();
  Evaluator e(c->policy_set,
              [](std::string_view text) { return text.find("FAILME") != std::string_view::npos; });
  auto ok = e.evaluate(message("a text the engine scans"), {});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->action, Action::pass);
  auto failed = e.evaluate(message("card 4111 1111 1111 1111, then FAILME"), {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().component, "body");
  EXPECT_EQ(failed.error().scan.code, cordon::detect::ScanErrorCode::engine);
  EXPECT_NE(failed.error().describe().find("body"), std::string::npos);
}
