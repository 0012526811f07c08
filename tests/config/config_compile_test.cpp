// Loading with rule compilation: the embedded default compiles into one
// database, and engine-level errors (bad regex, unknown identifier) point at
// the rule's YAML position and name the policy.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "policy/policy_set.hpp"

using namespace cordon::config;
using namespace cordon::policy;

TEST(ConfigCompile, EmbeddedDefaultCompilesEveryRuleIntoOneDatabase) {
  auto c = default_config();
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_NE((*c)->policy_set, nullptr);
  const PolicySet& set = *(*c)->policy_set;
  EXPECT_NE(set.database(), nullptr);
  // Five identifier policies and one attachment condition (no detection rule).
  EXPECT_EQ(set.policies().size(), 6u);
  EXPECT_EQ(set.rule_count(), 5u);
  EXPECT_EQ(set.unscannable().action, cordon::policy::UnscannableAction::block);
  EXPECT_EQ(set.rule_ref(4).policy, 4u);
  EXPECT_EQ((*c)->source, "<embedded default>");
}

TEST(ConfigCompile, RulesMapBackToTheirPolicies) {
  auto c = load_config_text(R"(console:
policies:
  - name: A
    match: {all: [{regex: 'x[0-9]+'}, {keywords: [alpha]}]}
  - name: B
    match: {any: [{identifier: iban}]}
)",
                            "t.yaml");
  ASSERT_TRUE(c) << c.error().to_string();
  const PolicySet& set = *(*c)->policy_set;
  ASSERT_EQ(set.rule_count(), 3u);
  EXPECT_EQ(set.rule_ref(1).policy, 0u);
  EXPECT_EQ(set.rule_ref(1).rule, 1u);
  EXPECT_EQ(set.rule_ref(2).policy, 1u);
  EXPECT_EQ(set.rule_ref(2).rule, 0u);
}

TEST(ConfigCompile, BadRegexPointsAtThePattern) {
  auto c = load_config_text(
      "console:\npolicies:\n  - name: P\n    match:\n      any:\n        - keywords: [a]\n"
      "        - regex: '(unclosed'\n",
      "t.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().line, 7);
  EXPECT_EQ(c.error().col, 18);
  EXPECT_EQ(c.error().message.rfind("policy 'P': regex '(unclosed' does not compile: ", 0), 0u)
      << c.error().message;
}

TEST(ConfigCompile, UnknownIdentifierNamesTheValidOnes) {
  auto c = load_config_text(
      "console:\npolicies:\n  - name: P\n    match: {any: [{identifier: ssn}]}\n", "t.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().line, 4);
  std::string all;
  for (const auto& n : cordon::detect::identifier_names()) all += (all.empty() ? "" : ", ") + n;
  EXPECT_EQ(c.error().message, "policy 'P': unknown identifier 'ssn'; valid identifiers: " + all);
}

TEST(ConfigCompile, FileErrors) {
  auto missing = load_config_file("/nonexistent/cordon.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().to_string(),
            "/nonexistent/cordon.yaml: error: cannot read the file: No such file or directory");
  auto dir = load_config_file("/tmp");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().message, "cannot read the file: it is a directory");
}

TEST(ConfigCompile, IncludeBuiltinPoliciesPutsTheEmbeddedPackFirst) {
  auto builtin = default_config();
  ASSERT_TRUE(builtin);
  auto c = load_config_text(R"(prevent:
include_builtin_policies: true
policies:
  - name: Project codes
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
)",
                            "own.yaml");
  ASSERT_TRUE(c) << c.error().to_string();
  const auto& policies = (*c)->policies;
  ASSERT_EQ(policies.size(), (*builtin)->policies.size() + 1);
  for (std::size_t i = 0; i < (*builtin)->policies.size(); ++i)
    EXPECT_EQ(policies[i].name, (*builtin)->policies[i].name);
  EXPECT_EQ(policies.back().name, "Project codes");
  EXPECT_EQ((*c)->policy_set->policies().size(), policies.size());
  EXPECT_TRUE((*c)->warnings().empty());

  auto only = parse_config_text("prevent:\ninclude_builtin_policies: yes\n", "only.yaml");
  ASSERT_TRUE(only) << only.error().to_string();
  EXPECT_EQ((*only)->policies.size(), (*builtin)->policies.size());
}

TEST(ConfigCompile, AnOwnPolicyWithABuiltinNameIsAnError) {
  auto c = parse_config_text(R"(include_builtin_policies: true
policies:
  - name: Payment card numbers
    match: {any: [{regex: 'x'}]}
)",
                             "clash.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().line, 3);
  EXPECT_NE(c.error().message.find("has the name of a built-in policy"), std::string::npos)
      << c.error().message;
}

// Valid, but nothing would ever be blocked: said, naming the consequence.
TEST(ConfigCompile, AnInspectingRoleWithoutPoliciesIsWarnedAbout) {
  auto prevent = parse_config_text("prevent:\n", "p.yaml");
  ASSERT_TRUE(prevent);
  ASSERT_EQ((*prevent)->warnings().size(), 1u);
  EXPECT_NE((*prevent)->warnings()[0].find("no policies: prevent inspects messages for nothing, "
                                           "so no message is ever blocked"),
            std::string::npos)
      << (*prevent)->warnings()[0];
  auto empty_list = parse_config_text("monitor: {capture: eth0}\npolicies: []\n", "m.yaml");
  ASSERT_TRUE(empty_list);
  EXPECT_EQ((*empty_list)->warnings().size(), 1u);
  // A gateway or a console alone inspects nothing by design.
  auto gateway = parse_config_text("gateway:\nconsole:\n", "g.yaml");
  ASSERT_TRUE(gateway);
  EXPECT_TRUE((*gateway)->warnings().empty());
}
