// The console section of the configuration: users, TLS files, session
// lifetime and /metrics exposure, with their defaults and errors.
#include <gtest/gtest.h>

#include "config/config.hpp"

using namespace cordon::config;
using namespace cordon::policy;
using namespace std::chrono_literals;

namespace {

const char* kHash =
    "pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
    "588372775fb38b5711b6f36b465e293dc7b793e008550ee8a10bb26a8e7f85b8";

ConfigResult parse(const std::string& yaml) {
  return parse_config_text(yaml, "c.yaml");
}

TEST(ConsoleConfig, DefaultsAreLoopbackNoUsersEightHourSessions) {
  auto c = parse("console:\n");
  ASSERT_TRUE(c) << c.error().to_string();
  const auto& console = *c.value()->console;
  EXPECT_EQ(console.listen.to_string(), "127.0.0.1:8025");
  EXPECT_TRUE(console.users.empty());
  EXPECT_TRUE(console.tls_cert.empty());
  EXPECT_EQ(console.session_ttl, 8h);
  EXPECT_FALSE(console.metrics_public.has_value());
}

TEST(ConsoleConfig, ReadsUsersTlsSessionTtlAndMetricsPublic) {
  auto c = parse(std::string("console:\n  listen: 0.0.0.0:8443\n  users:\n") +
                 "    - {name: alice, password_hash: \"" + kHash + "\"}\n" +
                 "    - {name: bob, password_hash: \"" + kHash + "\"}\n" +
                 "  tls_cert: /etc/cordon/console.crt\n  tls_key: /etc/cordon/console.key\n"
                 "  session_ttl: 30m\n  metrics_public: false\n");
  ASSERT_TRUE(c) << c.error().to_string();
  const auto& console = *c.value()->console;
  ASSERT_EQ(console.users.size(), 2u);
  EXPECT_EQ(console.users[0].name, "alice");
  EXPECT_EQ(console.users[1].password_hash, kHash);
  EXPECT_EQ(console.tls_cert, "/etc/cordon/console.crt");
  EXPECT_EQ(console.tls_key, "/etc/cordon/console.key");
  EXPECT_EQ(console.session_ttl, 30min);
  EXPECT_EQ(console.metrics_public, false);
}

TEST(ConsoleConfig, ErrorsNameTheProblemAndLine) {
  struct Case {
    std::string yaml;
    std::string message;
    int line;
  };
  const std::vector<Case> cases = {
      {"console:\n  users:\n    - {name: alice, password_hash: secret}\n", "password_hash", 3},
      {"console:\n  users:\n    - {password_hash: \"" + std::string(kHash) + "\"}\n", "name", 3},
      {"console:\n  users:\n    - {name: a, password_hash: \"" + std::string(kHash) +
           "\"}\n    - {name: a, password_hash: \"" + kHash + "\"}\n",
       "twice", 4},
      {"console:\n  users: admin\n", "list", 2},
      {"console:\n  tls_cert: /x.crt\n", "tls_key", 2},
      {"console:\n  session_ttl: 10s\n", "session_ttl", 2},
      {"console:\n  users:\n    - {name: a, password: x}\n", "unknown key 'password'", 3},
  };
  for (const auto& k : cases) {
    auto c = parse(k.yaml);
    ASSERT_FALSE(c) << k.yaml;
    // Every error is reported (an unknown key also leaves password_hash
    // missing): the expected one is among them.
    EXPECT_NE(c.error().to_string().find(k.message), std::string::npos) << c.error().to_string();
    EXPECT_EQ(c.error().line, k.line) << c.error().to_string();
  }
}

}  // namespace
