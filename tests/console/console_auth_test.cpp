// Password hashing, the users file, sessions and the login throttle.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "console/auth.hpp"
#include "incidents/sqlite_store.hpp"
#include "util/random.hpp"
#include "util/sha256.hpp"

namespace cordon::console {
namespace {

using namespace std::chrono_literals;

TEST(ConsoleAuth, AHashVerifiesItsPasswordAndNoOther) {
  auto hash = hash_password("correct horse", 2000);
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct hors", hash));
  EXPECT_FALSE(verify_password("", hash));
}

TEST(ConsoleAuth, IterationsAreReadFromTheHash) {
  EXPECT_EQ(hash_iterations(hash_password("pw", 2500)), 2500u);
  EXPECT_EQ(hash_iterations("pbkdf2-sha256$2500$zz$00"), 0u);
}

TEST(ConsoleAuth, HashesOfOnePasswordDifferBySalt) {
  EXPECT_NE(hash_password("pw", 2000), hash_password("pw", 2000));
}

TEST(ConsoleAuth, VerifiesAHashMadeByPythonHashlib) {
  // python3 -c "import hashlib; print(hashlib.pbkdf2_hmac('sha256', b'secret',
  //   bytes.fromhex('00112233445566778899aabbccddeeff'), 1000).hex())"
  const std::string hash =
      "pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
      "588372775fb38b5711b6f36b465e293dc7b793e008550ee8a10bb26a8e7f85b8";
  EXPECT_TRUE(check_hash_format(hash));
  EXPECT_TRUE(verify_password("secret", hash));
  EXPECT_FALSE(verify_password("Secret", hash));
}

TEST(ConsoleAuth, MalformedHashesAreReportedAndNeverVerify) {
  for (const char* bad : {"", "plain", "pbkdf2-sha256$1000$zz$00", "md5$1000$0011223344556677$00",
                          "pbkdf2-sha256$10$0011223344556677$" /* too few iterations */,
                          "pbkdf2-sha256$1000$0011223344556677$abcd"}) {
    EXPECT_FALSE(check_hash_format(bad)) << bad;
    EXPECT_FALSE(verify_password("x", bad)) << bad;
  }
}

TEST(ConsoleAuth, UsersFileIsCreatedOnceWithAGeneratedAdminPassword) {
  auto dir = std::filesystem::temp_directory_path() / ("cordon-users-" + util::random_hex(6));
  auto path = (dir / "console-users").string();
  auto first = load_or_create_users_file(path);
  ASSERT_TRUE(first) << first.error();
  ASSERT_TRUE(first->generated_password);
  ASSERT_EQ(first->users.size(), 1u);
  EXPECT_EQ(first->users[0].name, "admin");
  EXPECT_TRUE(verify_password(*first->generated_password, first->users[0].password_hash));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto second = load_or_create_users_file(path);
  ASSERT_TRUE(second) << second.error();
  EXPECT_FALSE(second->generated_password);
  EXPECT_EQ(second->users[0].password_hash, first->users[0].password_hash);
  std::filesystem::remove_all(dir);
}

TEST(ConsoleAuth, AUsersFileOpenToOthersIsTightenedOnLoad) {
  auto dir = std::filesystem::temp_directory_path() / ("cordon-users-" + util::random_hex(6));
  std::filesystem::create_directories(dir);
  auto path = (dir / "console-users").string();
  std::ofstream(path) << "alice:" << hash_password("a", 1000) << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = load_or_create_users_file(path);
  ASSERT_TRUE(loaded) << loaded.error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::filesystem::remove_all(dir);
}

TEST(ConsoleAuth, AUsersFileWithABadLineNamesTheLine) {
  auto dir = std::filesystem::temp_directory_path() / ("cordon-users-" + util::random_hex(6));
  std::filesystem::create_directories(dir);
  auto path = (dir / "console-users").string();
  std::ofstream(path) << "# users\nalice:" << hash_password("a", 1000) << "\nbob:plain\n";
  auto loaded = load_or_create_users_file(path);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find(":3:"), std::string::npos) << loaded.error();
  std::filesystem::remove_all(dir);
}

// Sessions live in the incident store: a second table on the same
// database (another console node, or this one after a restart) finds them.
class ConsoleSessions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cordon-sessions-" + util::random_hex(8));
    std::filesystem::create_directories(dir_);
    store_ = open();
    ASSERT_TRUE(store_);
    ASSERT_TRUE(store_->put_user({"admin", "h", "admin"}, false).has_value());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<incidents::IncidentStore> open() {
    auto s = incidents::SqliteIncidentStore::open((dir_ / "incidents.db").string());
    return s ? std::move(s).value() : nullptr;
  }
  std::filesystem::path dir_;
  std::unique_ptr<incidents::IncidentStore> store_;
};

TEST_F(ConsoleSessions, ATokenFindsItsSessionUntilItExpiresAlsoAfterARestart) {
  SessionTable table(*store_, 60s);
  auto t0 = WallClock::now();
  auto created = table.create("admin", "admin", t0).value();
  EXPECT_EQ(created.token.size(), 64u);
  EXPECT_EQ(created.session.csrf_token.size(), 64u);
  EXPECT_NE(created.token, created.session.csrf_token);
  auto restarted = open();
  SessionTable again(*restarted, 60s);
  auto found = again.find(created.token, t0 + 50s).value();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user, "admin");
  EXPECT_EQ(found->role, "admin");
  EXPECT_EQ(found->csrf_token, created.session.csrf_token);
  EXPECT_FALSE(again.find(created.token, t0 + 61s).value());
}

TEST_F(ConsoleSessions, OnlyAHashOfTheTokenIsStored) {
  SessionTable table(*store_, 60s);
  auto created = table.create("admin", "admin", WallClock::now()).value();
  std::ifstream db(dir_ / "incidents.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), {});
  std::ifstream wal(dir_ / "incidents.db-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), {});
  EXPECT_EQ(bytes.find(created.token), std::string::npos);
  EXPECT_NE(bytes.find(util::sha256_hex(created.token)), std::string::npos);
}

TEST_F(ConsoleSessions, UnknownEmptyAndRemovedTokensFindNothing) {
  SessionTable table(*store_, 60s);
  auto now = WallClock::now();
  auto created = table.create("admin", "admin", now).value();
  EXPECT_FALSE(table.find("", now).value());
  EXPECT_FALSE(table.find(std::string(64, 'a'), now).value());
  table.remove(created.token);
  EXPECT_FALSE(table.find(created.token, now).value());
}

TEST(ConsoleThrottle, FreeAttemptsThenDoublingWaits) {
  LoginThrottle throttle(3, 10s);
  auto t = SteadyClock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.wait_time("1.2.3.4", t), 0s);
    throttle.failed("1.2.3.4", t);
  }
  EXPECT_EQ(throttle.wait_time("1.2.3.4", t), 1s);
  EXPECT_EQ(throttle.wait_time("5.6.7.8", t), 0s);  // per client
  EXPECT_EQ(throttle.wait_time("1.2.3.4", t + 1s), 0s);
  throttle.failed("1.2.3.4", t + 1s);
  EXPECT_EQ(throttle.wait_time("1.2.3.4", t + 1s), 2s);
  for (int i = 0; i < 10; ++i) throttle.failed("1.2.3.4", t + 2s);
  EXPECT_EQ(throttle.wait_time("1.2.3.4", t + 2s), 10s);  // capped
  throttle.succeeded("1.2.3.4");
  EXPECT_EQ(throttle.wait_time("1.2.3.4", t + 2s), 0s);
}

TEST(ConsoleThrottle, GuessesForOneUserFromRotatingAddressesAreSlowedDown) {
  LoginThrottle throttle(3, 10s, 4);
  auto t = SteadyClock::time_point{} + 1000s;
  // Each address stays under its own limit; the user's limit still applies.
  for (int i = 0; i < 4; ++i) {
    const std::string client = "10.0.0." + std::to_string(i);
    EXPECT_EQ(throttle.wait_time(client, t), 0s);
    EXPECT_EQ(throttle.user_wait_time("admin", true, client, t), 0s);
    throttle.failed(client, t);
    throttle.user_failed("admin", true, t);
  }
  EXPECT_EQ(throttle.user_wait_time("admin", true, "10.0.0.99", t), 1s);
  EXPECT_EQ(throttle.user_wait_time("alice", true, "10.0.0.99", t), 0s);  // per user
  // Bounded: the back-off never exceeds max_delay, however long the flood.
  for (int i = 0; i < 100; ++i) throttle.user_failed("admin", true, t);
  EXPECT_EQ(throttle.user_wait_time("admin", true, "10.0.0.99", t), 10s);
  EXPECT_EQ(throttle.user_wait_time("admin", true, "10.0.0.99", t + 10s), 0s);
  // The right password after the back-off logs in and clears the count.
  throttle.user_succeeded("admin", "10.0.0.99");
  EXPECT_EQ(throttle.user_wait_time("admin", true, "10.0.0.98", t + 10s), 0s);
}

TEST(ConsoleThrottle, AFloodCannotLockAUserOutOfAnAddressItLoggedInFrom) {
  LoginThrottle throttle(3, 300s, 2);
  auto t = SteadyClock::time_point{} + 1000s;
  throttle.user_succeeded("admin", "192.0.2.1");
  for (int i = 0; i < 50; ++i) throttle.user_failed("admin", true, t);
  EXPECT_EQ(throttle.user_wait_time("admin", true, "198.51.100.7", t), 300s);
  EXPECT_EQ(throttle.user_wait_time("admin", true, "192.0.2.1", t), 0s);
}

TEST(ConsoleThrottle, UnknownUserNamesShareOneEntry) {
  LoginThrottle throttle(3, 10s, 2);
  auto t = SteadyClock::time_point{} + 1000s;
  for (int i = 0; i < 20000; ++i) throttle.user_failed("nobody" + std::to_string(i), false, t);
  EXPECT_EQ(throttle.user_wait_time("someone-else", false, "10.1.1.1", t), 10s);
  // Configured users are not caught by the flood of invented names.
  EXPECT_EQ(throttle.user_wait_time("admin", true, "10.1.1.1", t), 0s);
  // Being known matters, not the spelling of the name.
  EXPECT_EQ(throttle.user_wait_time("nobody1", true, "10.1.1.1", t), 0s);
}

}  // namespace
}  // namespace cordon::console
