// The configuration loader's structure and values (no rule compilation, so
// this test does not need the detection engine): every key of the contract
// is read, defaults are right, and every error names line:col and the cause.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/config.hpp"

using namespace cordon::config;
using namespace cordon::policy;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const Config> parse_ok(const std::string& yaml) {
  auto r = parse_config_text(yaml, "test.yaml");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

ConfigError parse_err(const std::string& yaml) {
  auto r = parse_config_text(yaml, "test.yaml");
  EXPECT_FALSE(r.has_value()) << "expected an error for:\n" << yaml;
  return r ? ConfigError{} : r.error();
}

const char* kDesignExample = R"(data_dir: /var/lib/cordon
incidents: postgresql://cordon@db/cordon
gateway:
  listen: 0.0.0.0:2525
  resubmit_listen: 127.0.0.1:10026
  relay_networks: [10.0.0.0/8, "2001:db8::/32"]
  dlp:
    hosts: [10.1.1.1:10025, "[2001:db8::1]:10025"]
    connect_timeout: 2s
    session_timeout: 1m
    tls: required
    bypass: false
  deliver: mx.example.com:25
  retry: {schedule: [30s, 2m], max_lifetime: 2d}
prevent:
  listen: 127.0.0.1:10025
  mode: forward
  next_hop: 127.0.0.1:10027
  block_reply: {code: 554, enhanced: 5.7.1, max_reply_bytes: 800, max_line_bytes: 200}
  filters: {sender: "-*@internal.example, *", recipient: "+*@partner.example"}
monitor:
  capture: eth0
  ports: [25, 587]
  filters: {sender: "-*@internal.example, *", recipient: ""}
console:
  listen: 127.0.0.1:8025
smtp: {max_message_size: 10MB, max_recipients: 50, command_timeout: 30s}
log: {format: json, level: debug}
policies:
  - name: PCI card numbers
    severity: high
    components: [subject, body, attachments]
    min_count_scope: per_message
    severity_tiers: [{min_count: 10, severity: high}, {min_count: 3, severity: medium}]
    match:
      any:
        - identifier: credit_card
          min_count: 2
          confidence: high
          proximity: 100
        - keywords: [confidential, "project neptune"]
        - regex: 'ACME-[0-9]{6}'
    except:
      recipients: ["*@partner.example"]
      senders: []
    respond:
      - block: "This message contains payment card data and was not sent."
      - modify: {subject_prefix: "[DLP] ", add_header: "X-DLP-Policy: PCI"}
      - redirect: quarantine@example.com
)";

}  // namespace

TEST(ConfigLoader, ReadsEveryKeyOfTheDesignExample) {
  auto c = parse_ok(kDesignExample);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data_dir, "/var/lib/cordon");
  EXPECT_EQ(c->incidents, "postgresql://cordon@db/cordon");
  ASSERT_TRUE(c->gateway);
  EXPECT_EQ(c->gateway->listen.to_string(), "0.0.0.0:2525");
  ASSERT_EQ(c->gateway->relay_networks.size(), 2u);
  EXPECT_TRUE(c->gateway->relay_networks[0].contains("10.200.3.4"));
  EXPECT_TRUE(c->gateway->relay_networks[1].contains("2001:db8:1::5"));
  ASSERT_EQ(c->gateway->dlp.hosts.size(), 2u);
  EXPECT_EQ(c->gateway->dlp.hosts[1].host, "2001:db8::1");
  EXPECT_EQ(c->gateway->dlp.hosts[1].to_string(), "[2001:db8::1]:10025");
  EXPECT_EQ(c->gateway->dlp.connect_timeout, 2s);
  EXPECT_EQ(c->gateway->dlp.session_timeout, 60s);
  EXPECT_EQ(c->gateway->dlp.tls, TlsMode::required);
  EXPECT_FALSE(c->gateway->dlp.bypass);
  ASSERT_TRUE(c->gateway->smarthost);
  EXPECT_EQ(c->gateway->smarthost->to_string(), "mx.example.com:25");
  EXPECT_EQ(c->gateway->retry.schedule, (std::vector<Duration>{30s, 120s}));
  EXPECT_EQ(c->gateway->retry.max_lifetime, 48h);
  ASSERT_TRUE(c->prevent);
  EXPECT_EQ(c->prevent->mode, PreventMode::forward);
  EXPECT_EQ(c->prevent->next_hop.port, 10027);
  EXPECT_EQ(c->prevent->block_reply.code, 554);
  EXPECT_EQ(c->prevent->block_reply.enhanced, "5.7.1");
  EXPECT_EQ(c->prevent->block_reply.max_reply_bytes, 800u);
  EXPECT_EQ(c->prevent->block_reply.max_line_bytes, 200u);
  EXPECT_EQ(c->prevent->filters.recipient, "+*@partner.example");
  ASSERT_TRUE(c->monitor);
  EXPECT_EQ(c->monitor->capture, "eth0");
  EXPECT_EQ(c->monitor->ports, (std::vector<std::uint16_t>{25, 587}));
  EXPECT_EQ(c->monitor->filters.sender, "-*@internal.example, *");
  ASSERT_TRUE(c->console);
  EXPECT_EQ(c->smtp.max_message_size, 10u << 20);
  EXPECT_EQ(c->smtp.max_recipients, 50u);
  EXPECT_EQ(c->smtp.command_timeout, 30s);
  EXPECT_EQ(c->log.format, cordon::util::LogFormat::json);
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->roles(),
            (std::vector<Role>{Role::gateway, Role::prevent, Role::monitor, Role::console}));

  ASSERT_EQ(c->policies.size(), 1u);
  const Policy& p = c->policies[0];
  EXPECT_EQ(p.name, "PCI card numbers");
  EXPECT_EQ(p.severity, Severity::high);
  EXPECT_EQ(p.components, unsigned(kSubject | kBody | kAttachments));
  EXPECT_EQ(p.count_scope, CountScope::per_message);
  ASSERT_EQ(p.severity_tiers.size(), 2u);
  EXPECT_EQ(p.severity_tiers[0].min_count, 3u);  // sorted
  EXPECT_EQ(p.mode, MatchMode::any);
  ASSERT_EQ(p.rules.size(), 3u);
  EXPECT_EQ(p.rules[0].display, "identifier:credit_card");
  EXPECT_EQ(p.rules[0].min_count, 2u);
  const auto& id = std::get<cordon::detect::IdentifierRule>(p.rules[0].rule.what);
  EXPECT_EQ(id.confidence, cordon::detect::Confidence::high);
  EXPECT_EQ(id.proximity, 100u);
  EXPECT_EQ(p.rules[1].display, "keywords");
  EXPECT_EQ(std::get<cordon::detect::KeywordRule>(p.rules[1].rule.what).keywords,
            (std::vector<std::string>{"confidential", "project neptune"}));
  EXPECT_EQ(p.rules[2].display, "regex:ACME-[0-9]{6}");
  EXPECT_EQ(p.rules[2].mark.line, 42);
  EXPECT_EQ(p.rules[2].mark.col, 18);
  EXPECT_EQ(p.except_recipients, (std::vector<std::string>{"*@partner.example"}));
  ASSERT_EQ(p.responses.size(), 3u);
  EXPECT_EQ(std::get<BlockResponse>(p.responses[0]).text,
            "This message contains payment card data and was not sent.");
  EXPECT_EQ(std::get<ModifyResponse>(p.responses[1]).subject_prefix, "[DLP] ");
  EXPECT_EQ(std::get<ModifyResponse>(p.responses[1]).add_headers,
            (std::vector<std::string>{"X-DLP-Policy: PCI"}));
  EXPECT_EQ(std::get<RedirectResponse>(p.responses[2]).address, "quarantine@example.com");
}

TEST(ConfigLoader, EmbeddedDefaultRunsGatewayPreventConsoleWithSixBlockPolicies) {
  auto c = parse_ok(std::string(default_config_yaml()));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->roles(), (std::vector<Role>{Role::gateway, Role::prevent, Role::console}));
  EXPECT_EQ(c->gateway->listen.to_string(), "127.0.0.1:2525");
  EXPECT_EQ(c->gateway->resubmit_listen.to_string(), "127.0.0.1:10026");
  EXPECT_EQ(c->gateway->dlp.hosts.at(0).to_string(), "127.0.0.1:10025");
  EXPECT_FALSE(c->gateway->smarthost);  // maildir
  EXPECT_EQ(c->prevent->listen.to_string(), "127.0.0.1:10025");
  EXPECT_EQ(c->prevent->mode, PreventMode::reflect);
  EXPECT_EQ(c->console->listen.to_string(), "127.0.0.1:8025");
  EXPECT_EQ(c->data_dir, "./cordon-data");
  EXPECT_EQ(c->incidents, "sqlite");
  ASSERT_EQ(c->policies.size(), 6u);
  std::vector<std::string> identifiers;
  for (const auto& p : c->policies) {
    ASSERT_EQ(p.responses.size(), 1u) << p.name;
    EXPECT_FALSE(std::get<BlockResponse>(p.responses[0]).text.empty());
    if (p.rules.empty()) {
      // The pack's last policy blocks password-protected attachments.
      ASSERT_EQ(p.attachment_conditions.size(), 1u) << p.name;
      EXPECT_TRUE(p.attachment_conditions[0].encrypted_only);
      continue;
    }
    identifiers.push_back(
        std::get<cordon::detect::IdentifierRule>(p.rules.at(0).rule.what).identifier);
  }
  EXPECT_EQ(identifiers, (std::vector<std::string>{"credit_card", "us_ssn", "iban", "private_key",
                                                   "aws_access_key"}));
  EXPECT_EQ(c->on_unscannable.action, cordon::policy::UnscannableAction::block);
}

TEST(ConfigLoader, ExamplesDefaultYamlIsTheEmbeddedDefault) {
  // Located from this file rather than the environment, so the test runs
  // the same under CTest and by hand.
  std::string root = std::string(__FILE__).substr(0, std::string(__FILE__).rfind("/tests/"));
  std::ifstream in(root + "/examples/default.yaml");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), std::string(default_config_yaml()));
}

TEST(ConfigLoader, MissingSectionsMeanRoleNotRunAndDefaultsApply) {
  auto c = parse_ok("console:\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->roles(), std::vector<Role>{Role::console});
  EXPECT_EQ(c->console->listen.to_string(), "127.0.0.1:8025");
  EXPECT_EQ(c->smtp.max_line_length, 1000u);
  EXPECT_TRUE(c->policies.empty());
  EXPECT_EQ(c->policy_set, nullptr);  // parse only, nothing compiled
}

TEST(ConfigLoader, UnknownKeyNamesSectionPositionAndSuggestion) {
  auto e = parse_err("prevent:\n  listen: 127.0.0.1:10025\n  mdoe: reflect\n");
  EXPECT_EQ(e.file, "test.yaml");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.col, 3);
  EXPECT_EQ(e.message, "unknown key 'mdoe' in prevent; did you mean 'mode'?");
  EXPECT_EQ(e.to_string(),
            "test.yaml:3:3: error: unknown key 'mdoe' in prevent; did you mean 'mode'?");
}

TEST(ConfigLoader, UnknownKeyWithoutCloseMatchListsValidKeys) {
  auto e = parse_err("console:\n  frobnicate: 1\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.message,
            "unknown key 'frobnicate' in console; valid keys: listen, users, tls_cert, tls_key, "
            "session_ttl, metrics_public");
}

TEST(ConfigLoader, YamlSyntaxErrorHasPosition) {
  auto e = parse_err("console:\n  listen: [127.0.0.1:8025\n");
  EXPECT_GT(e.line, 0);
  EXPECT_NE(e.message.find("YAML syntax error"), std::string::npos) << e.message;
  auto e2 = parse_err("prevent:\n  listen: \"127.0.0.1:10025\n");
  EXPECT_GE(e2.line, 2);
}

TEST(ConfigLoader, BadDurationPointsAtTheValue) {
  auto e = parse_err("gateway:\n  dlp:\n    connect_timeout: 5 seconds\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.col, 22);
  EXPECT_NE(e.message.find("gateway.dlp.connect_timeout"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("bad duration '5 seconds'"), std::string::npos) << e.message;
}

TEST(ConfigLoader, BadHostPortAndWrongTypesAreRejected) {
  auto e = parse_err("console:\n  listen: 127.0.0.1\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("console.listen: bad address '127.0.0.1'"), std::string::npos)
      << e.message;
  e = parse_err("console:\n  listen: 127.0.0.1:99999\n");
  EXPECT_NE(e.message.find("port must be a number from 1 to 65535"), std::string::npos)
      << e.message;
  e = parse_err("gateway:\n  dlp:\n    bypass: maybe\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.message, "gateway.dlp.bypass must be true or false, got 'maybe'");
  e = parse_err("gateway:\n  dlp:\n    hosts: 127.0.0.1:10025\n");
  EXPECT_NE(e.message.find("gateway.dlp.hosts must be a list"), std::string::npos) << e.message;
  e = parse_err("gateway:\n  dlp:\n    hosts: [127.0.0.1:10025, 300.0.0.1:25]\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.col, 30);
  e = parse_err("prevent:\n  mode: sideways\n");
  EXPECT_EQ(e.message, "prevent.mode must be one of reflect, forward, got 'sideways'");
  e = parse_err("gateway:\n  relay_networks: [10.0.0.0/33]\n");
  EXPECT_NE(e.message.find("prefix length must be 0 to 32"), std::string::npos) << e.message;
  e = parse_err("prevent:\n  block_reply: {enhanced: 4.7.0}\n");
  EXPECT_NE(e.message.find("RFC 3463"), std::string::npos) << e.message;
}

TEST(ConfigLoader, PolicyErrors) {
  auto e = parse_err("console:\npolicies:\n  - name: A\n    severity: high\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.message, "policy 'A' has no match: say what it looks for (match: {any: [...]})");

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x}]}\n"
      "  - name: A\n    match: {any: [{regex: y}]}\n");
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.message, "duplicate policy name 'A' (first defined at line 3)");

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x, identifier: y}]}\n");
  EXPECT_NE(e.message.find("exactly one of identifier, keywords or regex"), std::string::npos);

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x, confidence: high}]}\n");
  EXPECT_NE(e.message.find("confidence applies to identifier rules only"), std::string::npos)
      << e.message;

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    severity: urgent\n    match: {any: [{regex: x}]}\n");
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.col, 15);

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x}]}\n    respond:\n      - "
      "redirect: nobody\n");
  EXPECT_EQ(e.line, 6);
  EXPECT_NE(e.message.find("must be one mail address"), std::string::npos);

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x}]}\n    respond:\n"
      "      - modify: {add_header: NoColonHere}\n");
  EXPECT_NE(e.message.find("'Name: value'"), std::string::npos) << e.message;

  e = parse_err(
      "console:\npolicies:\n  - name: A\n    components: [body, footer]\n    match: {any: [{regex: "
      "x}]}\n");
  EXPECT_NE(e.message.find("unknown component 'footer'"), std::string::npos) << e.message;
}

TEST(ConfigLoader, MilterSectionIsReadWithDefaultsAndLimits) {
  auto c = parse_ok("milter:\n  listen: 127.0.0.1:8891\n");
  ASSERT_TRUE(c->milter);
  EXPECT_EQ(c->roles(), std::vector<Role>{Role::milter});
  EXPECT_EQ(c->milter->listen.port, 8891);
  EXPECT_TRUE(c->milter->unix_path.empty());
  EXPECT_EQ(c->milter->max_frame_bytes, 1u << 20);
  EXPECT_EQ(c->milter->progress_interval, 10s);
  EXPECT_EQ(c->milter->block_reply.code, 550);

  c = parse_ok(
      "milter:\n  listen: unix:/run/cordon/milter.sock\n  max_frame_bytes: 70000\n"
      "  max_message_size: 10MB\n  idle_timeout: 5m\n  progress_interval: 2s\n"
      "  block_reply: {code: 554, enhanced: 5.7.1, max_reply_bytes: 600}\n"
      "  filters: {sender: \"-*@internal.test\", recipient: \"\"}\n");
  EXPECT_EQ(c->milter->unix_path, "/run/cordon/milter.sock");
  EXPECT_EQ(c->milter->max_frame_bytes, 70000u);
  EXPECT_EQ(c->milter->max_message_size, 10u << 20);
  EXPECT_EQ(c->milter->idle_timeout, 5min);
  EXPECT_EQ(c->milter->progress_interval, 2s);
  EXPECT_EQ(c->milter->block_reply.code, 554);
  EXPECT_EQ(c->milter->block_reply.enhanced, "5.7.1");
  EXPECT_EQ(c->milter->block_reply.max_reply_bytes, 600u);
  EXPECT_EQ(c->milter->filters.sender, "-*@internal.test");

  auto e = parse_err("milter:\n  listen: unix:relative.sock\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("absolute path"), std::string::npos) << e.message;
  e = parse_err("milter:\n  max_frame_bytes: 1000\n");
  EXPECT_NE(e.message.find("max_frame_bytes"), std::string::npos) << e.message;
  e = parse_err("milter:\n  block_reply: {enhanced: 4.7.0}\n");
  EXPECT_NE(e.message.find("milter.block_reply.enhanced"), std::string::npos) << e.message;
  e = parse_err("milter:\n  filters: {sender: \"+a@b.example, *, -c@d.example\"}\n");
  EXPECT_NE(e.message.find("milter.filters.sender"), std::string::npos) << e.message;
}

TEST(ConfigLoader, HoldResponseNeedsAReason) {
  auto c = parse_ok(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x}]}\n    respond:\n"
      "      - hold: \"Review by the DLP team\"\n");
  ASSERT_EQ(c->policies.at(0).responses.size(), 1u);
  EXPECT_EQ(std::get<HoldResponse>(c->policies[0].responses[0]).reason, "Review by the DLP team");
  auto e = parse_err(
      "console:\npolicies:\n  - name: A\n    match: {any: [{regex: x}]}\n    respond:\n"
      "      - hold: \" \"\n");
  EXPECT_EQ(e.line, 6);
  EXPECT_NE(e.message.find("hold needs a reason"), std::string::npos) << e.message;
}

TEST(ConfigLoader, DuplicateKeysAreRejected) {
  auto e = parse_err("console:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.message, "duplicate key 'listen' in console");
}

TEST(ConfigLoader, EmptyTextIsAnError) {
  auto e = parse_err("# nothing\n");
  EXPECT_EQ(e.message, "the configuration is empty");
}

TEST(ConfigValues, Durations) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("5s"), 5s);
  EXPECT_EQ(*parse_duration("1m"), 60s);
  EXPECT_EQ(*parse_duration("24h"), 24h);
  EXPECT_EQ(*parse_duration("2d"), 48h);
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("5w"));
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
}

TEST(ConfigValues, Sizes) {
  EXPECT_EQ(*parse_size("512"), 512u);
  EXPECT_EQ(*parse_size("64KB"), 64u * 1024);
  EXPECT_EQ(*parse_size("10MB"), 10u << 20);
  EXPECT_EQ(*parse_size("10 mb"), 10u << 20);
  EXPECT_EQ(*parse_size("1GB"), 1u << 30);
  EXPECT_FALSE(parse_size("MB"));
  EXPECT_FALSE(parse_size("10XB"));
}

TEST(ConfigValues, HostPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:25")->port, 25);
  EXPECT_EQ(parse_host_port("mx-1.example.com:587")->host, "mx-1.example.com");
  EXPECT_EQ(parse_host_port("[::1]:25")->host, "::1");
  EXPECT_FALSE(parse_host_port("::1:25"));
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:0"));
  EXPECT_TRUE(parse_host_port("127.0.0.1:0", /*allow_port_zero=*/true));
  EXPECT_FALSE(parse_host_port("1.2.3:25"));
  EXPECT_FALSE(parse_host_port("bad host:25"));
  EXPECT_FALSE(parse_host_port(":25"));
}

TEST(ConfigValues, CidrContains) {
  auto loopback = *parse_cidr("127.0.0.0/8");
  EXPECT_TRUE(loopback.contains("127.1.2.3"));
  EXPECT_TRUE(loopback.contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(loopback.contains("128.0.0.1"));
  EXPECT_FALSE(loopback.contains("::1"));
  EXPECT_FALSE(loopback.contains("not an address"));
  auto host = *parse_cidr("192.168.1.7");
  EXPECT_EQ(host.prefix, 32);
  EXPECT_TRUE(host.contains("192.168.1.7"));
  EXPECT_FALSE(host.contains("192.168.1.8"));
  auto odd = *parse_cidr("10.1.2.3/12");  // host bits are ignored
  EXPECT_TRUE(odd.contains("10.15.255.255"));
  EXPECT_FALSE(odd.contains("10.16.0.0"));
  auto v6 = *parse_cidr("2001:db8::/32");
  EXPECT_TRUE(v6.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(v6.contains("2001:db9::1"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/x"));
  EXPECT_FALSE(parse_cidr("::/129"));
}

TEST(ConfigLoader, BadL7FilterPointsAtTheMask) {
  auto e = parse_err("prevent:\n  filters: {sender: \"+a@b.example, *, -c@d.example\"}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.col, 36);  // the lone '*' that is not last
  EXPECT_NE(e.message.find("prevent.filters.sender: "), std::string::npos) << e.message;
  e = parse_err("monitor:\n  capture: eth0\n  filters:\n    recipient: +a@b.example,,c@d\n");
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("monitor.filters.recipient: "), std::string::npos) << e.message;
}

TEST(ConfigLoader, SmtpClientLimitsHaveDefaultsAndAreRead) {
  auto d = parse_ok("console:\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->smtp.max_connections_per_client, 20u);
  EXPECT_EQ(d->smtp.max_connection_rate_per_client, 600u);
  EXPECT_EQ(d->smtp.max_session_time, 30min);
  EXPECT_EQ(d->smtp.max_data_time, 10min);
  ASSERT_EQ(d->smtp.client_limit_exceptions.size(), 2u);
  EXPECT_TRUE(d->smtp.client_limit_exceptions[0].contains("127.0.0.2"));
  EXPECT_TRUE(d->smtp.client_limit_exceptions[1].contains("::1"));

  auto c = parse_ok(
      "smtp:\n  max_connections_per_client: 5\n  max_connection_rate_per_client: 0\n"
      "  client_limit_exceptions: [10.0.0.0/8]\n  max_session_time: 2m\n  max_data_time: 90s\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->smtp.max_connections_per_client, 5u);
  EXPECT_EQ(c->smtp.max_connection_rate_per_client, 0u);
  ASSERT_EQ(c->smtp.client_limit_exceptions.size(), 1u);
  EXPECT_TRUE(c->smtp.client_limit_exceptions[0].contains("10.1.2.3"));
  EXPECT_FALSE(c->smtp.client_limit_exceptions[0].contains("127.0.0.1"));
  EXPECT_EQ(c->smtp.max_session_time, 2min);
  EXPECT_EQ(c->smtp.max_data_time, 90s);

  auto none = parse_ok("smtp:\n  client_limit_exceptions: []\n");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->smtp.client_limit_exceptions.empty());
}

TEST(ConfigLoader, SmtpClientLimitsAreValidated) {
  auto bad_net = parse_err("smtp:\n  client_limit_exceptions: [127.0.0.0/8, 10.0.0.0/99]\n");
  EXPECT_EQ(bad_net.line, 2);
  EXPECT_NE(bad_net.message.find("smtp.client_limit_exceptions"), std::string::npos)
      << bad_net.message;
  auto short_session = parse_err("smtp:\n  max_session_time: 0s\n");
  EXPECT_NE(short_session.message.find("smtp.max_session_time must be at least 1s"),
            std::string::npos)
      << short_session.message;
  auto data_over_session = parse_err("smtp:\n  max_session_time: 5m\n  max_data_time: 6m\n");
  EXPECT_EQ(data_over_session.line, 3);
  EXPECT_NE(data_over_session.message.find("must not exceed smtp.max_session_time"),
            std::string::npos)
      << data_over_session.message;
  auto negative = parse_err("smtp:\n  max_connections_per_client: -1\n");
  EXPECT_NE(negative.message.find("smtp.max_connections_per_client"), std::string::npos)
      << negative.message;
}

TEST(ConfigLoader, PreventClientNetworksDefaultToLoopback) {
  auto d = parse_ok("prevent:\n");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->prevent->client_networks.size(), 2u);
  EXPECT_TRUE(d->prevent->client_networks[0].contains("127.0.0.1"));
  EXPECT_TRUE(d->prevent->client_networks[1].contains("::1"));
  auto lan = parse_ok("prevent:\n  client_networks: [10.1.0.0/16]\n");
  ASSERT_TRUE(lan);
  ASSERT_EQ(lan->prevent->client_networks.size(), 1u);
  EXPECT_TRUE(lan->prevent->client_networks[0].contains("10.1.2.3"));
  auto bad = parse_err("prevent:\n  client_networks: [10.1.0.0/33]\n");
  EXPECT_EQ(bad.line, 2);
  EXPECT_NE(bad.message.find("prevent.client_networks"), std::string::npos) << bad.message;
}

// One run reports every independent error, in file order, each with its
// position: an administrator fixes them all at once.
TEST(ConfigLoader, EveryIndependentErrorIsReportedInFileOrder) {
  auto e = parse_err(
      "gateway:\n"
      "  lisen: 127.0.0.1:2525\n"  // 2:3 unknown key
      "  dlp:\n"
      "    session_timeout: 0s\n"               // 4:22 out of range
      "    bypass: maybe\n"                     // 5:13 not a boolean
      "  retry: {schedule: [1m, 5 minutes]}\n"  // 6:26 bad duration
      "smtp:\n"
      "  max_recipients: 0\n"  // 8:19 out of range
      "policies:\n"
      "  - name: A\n"
      "    match: {any: [{identifier: credit_card}]}\n"
      "    severity: extreme\n"  // 12:15 bad choice
      "  - name: B\n"            // 13:5 no match
      "incidents: mysql\n");     // 14:12 bad store
  std::vector<std::pair<int, int>> at{{e.line, e.col}};
  std::vector<std::string> messages{e.message};
  for (const auto& m : e.more) {
    at.emplace_back(m.line, m.col);
    messages.push_back(m.message);
    EXPECT_EQ(m.file, "test.yaml");
    EXPECT_TRUE(m.more.empty());
  }
  EXPECT_EQ(at, (std::vector<std::pair<int, int>>{
                    {2, 3}, {4, 22}, {5, 13}, {6, 26}, {8, 19}, {12, 15}, {13, 5}, {14, 12}}))
      << e.to_string();
  ASSERT_EQ(messages.size(), 8u);
  EXPECT_NE(messages[0].find("unknown key 'lisen' in gateway"), std::string::npos);
  EXPECT_NE(messages[1].find("gateway.dlp.session_timeout must be from 1s to 1h"),
            std::string::npos);
  EXPECT_NE(messages[2].find("gateway.dlp.bypass must be true or false"), std::string::npos);
  EXPECT_NE(messages[3].find("bad duration '5 minutes'"), std::string::npos);
  EXPECT_NE(messages[4].find("smtp.max_recipients"), std::string::npos);
  EXPECT_NE(messages[5].find("severity must be one of"), std::string::npos);
  EXPECT_NE(messages[6].find("has no match"), std::string::npos);
  EXPECT_NE(messages[7].find("incidents must be sqlite"), std::string::npos);
  // One line per error, the first first.
  const std::string text = e.to_string();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 7);
  EXPECT_EQ(text.rfind("test.yaml:2:3: error: unknown key 'lisen'", 0), 0u) << text;
}

TEST(ConfigLoader, ASingleErrorIsOneLine) {
  auto e = parse_err("smtp:\n  max_recipients: 0\n");
  EXPECT_TRUE(e.more.empty());
  EXPECT_EQ(e.to_string().find('\n'), std::string::npos);
}

TEST(ConfigReload, ChangesOnlyARestartAppliesAreNamed) {
  auto before = parse_ok(
      "gateway:\n  listen: 127.0.0.1:2525\n  dlp: {hosts: [127.0.0.1:10025]}\n"
      "prevent:\n  listen: 127.0.0.1:10025\n");
  auto same_but_policies = parse_ok(
      "gateway:\n  listen: 127.0.0.1:2525\n  dlp: {hosts: [127.0.0.1:10025]}\n"
      "prevent:\n  listen: 127.0.0.1:10025\n  filters: {sender: '-*@x.test'}\n"
      "policies:\n  - name: A\n    match: {any: [{regex: 'x'}]}\n");
  ASSERT_TRUE(before && same_but_policies);
  EXPECT_TRUE(changes_needing_restart(*before, *same_but_policies).empty());

  auto moved = parse_ok(
      "gateway:\n  listen: 127.0.0.1:2600\n  dlp: {hosts: [127.0.0.1:10025]}\n"
      "console:\n"
      "smtp: {max_connections: 5}\n");
  ASSERT_TRUE(moved);
  EXPECT_EQ(changes_needing_restart(*before, *moved),
            (std::vector<std::string>{"roles gateway,prevent -> gateway,console",
                                      "smtp (listener limits) changed",
                                      "gateway.listen 127.0.0.1:2525 -> 127.0.0.1:2600"}));
}

TEST(ConfigLoader, RunAsAndRetentionAreReadAndChecked) {
  auto none = parse_ok("data_dir: /d\n");
  EXPECT_EQ(none->run_as, "");
  EXPECT_EQ(none->incidents_retention, 0ms);
  auto c = parse_ok("run_as: cordon\nretention:\n  incidents: 180d\n");
  EXPECT_EQ(c->run_as, "cordon");
  EXPECT_EQ(c->incidents_retention, 24h * 180);
  EXPECT_EQ(parse_ok("retention: {incidents: 0}\n")->incidents_retention, 0ms);
  EXPECT_EQ(parse_ok("retention: {}\n")->incidents_retention, 0ms);

  auto short_one = parse_err("retention:\n  incidents: 5m\n");
  EXPECT_EQ(short_one.line, 2);
  EXPECT_NE(short_one.message.find("retention.incidents must be from 1h"), std::string::npos)
      << short_one.message;
  EXPECT_NE(short_one.message.find("0, which keeps incidents forever"), std::string::npos);
  EXPECT_NE(parse_err("retention: {incidents: 90 days}\n").message.find("bad duration"),
            std::string::npos);
  EXPECT_NE(parse_err("retention: {messages: 1d}\n").message.find("messages"), std::string::npos);
  EXPECT_NE(parse_err("run_as: ''\n").message.find("run_as must name a user"), std::string::npos);
}

TEST(ConfigLoader, RunAsChangeNeedsARestartRetentionDoesNot) {
  auto a = parse_ok("run_as: cordon\nretention: {incidents: 30d}\n");
  auto b = parse_ok("run_as: mail\nretention: {incidents: 60d}\n");
  auto changes = changes_needing_restart(*a, *b);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("run_as"), std::string::npos) << changes[0];
}
