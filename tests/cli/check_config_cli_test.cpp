// `cordon check-config`: a good file prints a one-line summary and exits 0;
// each kind of mistake exits 2 with exactly `file:line:col: error: ...` on
// standard error.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "support/process.hpp"

using cordon::testing::cordon_bin;
using cordon::testing::run_command;

namespace {

std::string source_root() {
  std::string file = __FILE__;
  return file.substr(0, file.rfind("/tests/"));
}

class CheckConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cordon-check-config-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { run_command("rm -rf '" + dir_ + "'"); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // Runs check-config; returns {exit code, stderr}. Stdout must be empty.
  std::pair<int, std::string> check_fails(const std::string& path) {
    auto out = run_command(cordon_bin() + " check-config '" + path + "' 2>/dev/null");
    EXPECT_EQ(out.output, "") << "nothing on stdout when the config is bad";
    auto err = run_command(cordon_bin() + " check-config '" + path + "' 2>&1 >/dev/null");
    return {err.exit_code, err.output};
  }

  std::string dir_;
};

const char* kPolicyHead = "prevent:\n  listen: 127.0.0.1:10025\npolicies:\n";

}  // namespace

TEST_F(CheckConfig, DefaultExampleIsValid) {
  auto r = run_command(cordon_bin() + " check-config " + source_root() + "/examples/default.yaml");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "ok: 6 policies, roles gateway, prevent, console\n");
}

TEST_F(CheckConfig, SinglePolicySummaryIsSingular) {
  auto path =
      write("one.yaml", std::string(kPolicyHead) +
                            "  - name: Codes\n    match: {any: [{regex: 'ACME-[0-9]{6}'}]}\n");
  auto r = run_command(cordon_bin() + " check-config " + path);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "ok: 1 policy, roles prevent\n");
}

TEST_F(CheckConfig, BadRegexNamesPolicyAndPosition) {
  auto path = write("regex.yaml", std::string(kPolicyHead) +
                                      "  - name: Broken codes\n"
                                      "    match:\n"
                                      "      any:\n"
                                      "        - regex: 'ACME-([0-9]{6}'\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(
      err.rfind(
          path + ":7:18: error: policy 'Broken codes': regex 'ACME-([0-9]{6}' does not compile: ",
          0),
      0u)
      << err;
}

TEST_F(CheckConfig, UnknownIdentifierListsTheValidOnes) {
  auto path = write("ident.yaml", std::string(kPolicyHead) +
                                      "  - name: Cards\n"
                                      "    match: {any: [{identifier: credit_cards}]}\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(path + ":5:32: error: policy 'Cards': unknown identifier 'credit_cards'; "
                             "valid identifiers: ",
                      0),
            0u)
      << err;
  EXPECT_NE(err.find("credit_card,"), std::string::npos) << err;
  EXPECT_NE(err.find("us_ssn"), std::string::npos) << err;
}

TEST_F(CheckConfig, YamlSyntaxError) {
  auto path = write("syntax.yaml", "console:\n  listen: [127.0.0.1:8025\npolicies: []\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(path + ":3:", 0), 0u) << err;
  EXPECT_NE(err.find(": error: YAML syntax error: "), std::string::npos) << err;
}

TEST_F(CheckConfig, UnknownKeySuggestsTheRightOne) {
  auto path = write("key.yaml",
                    "gateway:\n  listen: 127.0.0.1:2525\n  dpl:\n    hosts: [127.0.0.1:10025]\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err, path + ":3:3: error: unknown key 'dpl' in gateway; did you mean 'dlp'?\n");
}

TEST_F(CheckConfig, BadDuration) {
  auto path = write("duration.yaml", "gateway:\n  retry:\n    schedule: [1m, 5 minutes]\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err,
            path +
                ":3:20: error: gateway.retry.schedule item: bad duration '5 minutes': unknown unit "
                "' minutes' (use ms, s, m, h or d)\n");
}

TEST_F(CheckConfig, BlockReplyTheReplyBuilderCannotHonourIsRejected) {
  auto path =
      write("reply.yaml", "prevent:\n  block_reply: {max_line_bytes: 64, max_reply_bytes: 64}\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(path + ":2:16: error: prevent.block_reply: ", 0), 0u) << err;
}

TEST_F(CheckConfig, MissingFile) {
  auto [code, err] = check_fails(dir_ + "/nope.yaml");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err, dir_ + "/nope.yaml: error: cannot read the file: No such file or directory\n");
}

TEST_F(CheckConfig, ZeroDlpSessionTimeoutIsAnErrorNotASilentBypass) {
  auto path = write("zero.yaml",
                    "gateway:\n  dlp:\n    hosts: [127.0.0.1:10025]\n    session_timeout: 0s\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(path + ":4:22: error: gateway.dlp.session_timeout must be from 1s to 1h, "
                             "got '0s' (every DLP session would time out",
                      0),
            0u)
      << err;
}

TEST_F(CheckConfig, EveryErrorIsReportedInOneRun) {
  auto path = write("many.yaml",
                    "gateway:\n"
                    "  dlp: {connect_timeout: 0s, session_timeout: 0s}\n"
                    "console:\n"
                    "  lisen: 127.0.0.1:8025\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(path + ":2:26: error: gateway.dlp.connect_timeout must be from 100ms", 0), 0u)
      << err;
  EXPECT_NE(err.find("\n" + path + ":2:47: error: gateway.dlp.session_timeout must be from 1s"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("\n" + path +
                     ":4:3: error: unknown key 'lisen' in console; did you mean "
                     "'listen'?\n"),
            std::string::npos)
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 3) << err;
}

TEST_F(CheckConfig, NoPoliciesIsAWarningNamingTheConsequence) {
  auto path = write("nopolicies.yaml", "prevent:\n  listen: 127.0.0.1:10025\n");
  auto out = run_command(cordon_bin() + " check-config '" + path + "' 2>/dev/null");
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.output, "ok: 0 policies, roles prevent\n");
  auto err = run_command(cordon_bin() + " check-config '" + path + "' 2>&1 >/dev/null");
  EXPECT_EQ(err.output.rfind(path + ": warning: no policies: prevent inspects messages for "
                                    "nothing, so no message is ever blocked",
                             0),
            0u)
      << err.output;
  EXPECT_NE(err.output.find("include_builtin_policies: true"), std::string::npos);

  auto with_pack = write("pack.yaml", "prevent:\ninclude_builtin_policies: true\n");
  auto ok = run_command(cordon_bin() + " check-config '" + with_pack + "' 2>&1");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.output, "ok: 6 policies (built-in pack included), roles prevent\n");
}

TEST_F(CheckConfig, PostgresqlIncidentUrlsAreAcceptedWithoutConnecting) {
  // Nothing listens there: check-config parses the URL, it does not connect.
  for (const char* url : {"postgresql://cordon@127.0.0.1:1/incidents?sslmode=verify-full",
                          "postgres://cordon:secret@db.example/incidents"}) {
    auto path = write("pg.yaml", std::string("incidents: ") + url + "\n");
    auto out = run_command(cordon_bin() + " check-config '" + path + "' 2>&1");
    EXPECT_EQ(out.exit_code, 0) << url << ": " << out.output;
  }
}

TEST_F(CheckConfig, AnUnparsablePostgresqlUrlNamesItsLine) {
  auto path = write("pg.yaml", "data_dir: /tmp/x\nincidents: postgresql://h/db?sslmod=require\n");
  auto [code, err] = check_fails(path);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(path + ":2:12: error: incidents: invalid PostgreSQL URL", 0), 0u) << err;
  EXPECT_NE(err.find("sslmod"), std::string::npos) << err;
}

TEST_F(CheckConfig, ACertificateAndAKeyThatDoNotBelongTogetherAreAnError) {
  for (const char* name : {"a", "b"}) {
    auto made = run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
        " -keyout '" +
        dir_ + "/" + name + ".key' -out '" + dir_ + "/" + name + ".crt' 2>&1");
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  auto config = [&](const char* key) {
    return "prevent:\n  listen: 127.0.0.1:10025\n  tls_cert: " + dir_ +
           "/a.crt\n  tls_key: " + dir_ + "/" + key + "\n";
  };
  auto good = write("good.yaml", config("a.key"));
  auto out = run_command(cordon_bin() + " check-config '" + good + "' 2>&1");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  auto bad = write("bad.yaml", config("b.key"));
  auto [code, err] = check_fails(bad);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind(bad + ":3:13: error: prevent.tls_cert: cannot load private key", 0), 0u)
      << err;
}
