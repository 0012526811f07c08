// Password hashing, the generated users file, sessions and the login
// throttle; see auth.hpp.
#include "console/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::console {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kKeyBytes = 32;
// Below this a stored hash is too cheap to brute-force offline to be accepted.
constexpr unsigned kMinIterations = 1000;

std::optional<std::vector<unsigned char>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, value, 16);
    if (ec != std::errc() || end != text.data() + 2 * i + 2) return std::nullopt;
    out[i] = static_cast<unsigned char>(value);
  }
  return out;
}

struct ParsedHash {
  unsigned iterations = 0;
  std::vector<unsigned char> salt;
  std::vector<unsigned char> key;
};

Result<ParsedHash, std::string> parse_hash(std::string_view hash) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto dollar = hash.find('$', start);
    parts.push_back(hash.substr(start, dollar == std::string_view::npos ? dollar : dollar - start));
    if (dollar == std::string_view::npos) break;
    start = dollar + 1;
  }
  if (parts.size() != 4 || parts[0] != kScheme)
    return fail(std::string("a password hash must look like pbkdf2-sha256$ITERATIONS$SALT$KEY"));
  ParsedHash parsed;
  auto [end, ec] =
      std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), parsed.iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() ||
      parsed.iterations < kMinIterations)
    return fail("the iteration count must be a number of at least " +
                std::to_string(kMinIterations));
  auto salt = from_hex(parts[2]);
  auto key = from_hex(parts[3]);
  if (!salt || salt->size() < 8)
    return fail(std::string("the salt must be at least 8 bytes of hex"));
  if (!key || key->size() != kKeyBytes)
    return fail(std::string("the key must be 32 bytes (64 hex digits)"));
  parsed.salt = std::move(*salt);
  parsed.key = std::move(*key);
  return parsed;
}

std::vector<unsigned char> derive(std::string_view password, const std::vector<unsigned char>& salt,
                                  unsigned iterations) {
  std::vector<unsigned char> key(kKeyBytes);
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                    static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                    static_cast<int>(key.size()), key.data());
  return key;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return util::to_hex(digest, sizeof digest);
}

}  // namespace

std::string hash_password(std::string_view password, unsigned iterations) {
  auto salt = util::random_bytes(16);
  auto key = derive(password, salt, iterations);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" +
         util::to_hex(salt.data(), salt.size()) + "$" + util::to_hex(key.data(), key.size());
}

Status<std::string> check_hash_format(std::string_view hash) {
  auto parsed = parse_hash(hash);
  if (!parsed) return fail(parsed.error());
  return Ok{};
}

unsigned hash_iterations(std::string_view hash) {
  auto parsed = parse_hash(hash);
  return parsed ? parsed->iterations : 0;
}

bool verify_password(std::string_view password, std::string_view hash) {
  auto parsed = parse_hash(hash);
  if (!parsed) return false;
  auto key = derive(password, parsed->salt, parsed->iterations);
  return CRYPTO_memcmp(key.data(), parsed->key.data(), key.size()) == 0;
}

Result<UsersFile, std::string> load_or_create_users_file(const std::string& path) {
  UsersFile out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    std::string password = util::random_hex(12);
    User admin{"admin", hash_password(password), path};
    // Created exclusively: two processes starting at once must not both
    // print a password while only one of them ends up in the file.
    auto created =
        util::create_file_durably(path, admin.name + ":" + admin.password_hash + "\n", 0600);
    if (!created)
      return fail(path + ": cannot create the console users file (" +
                  std::strerror(created.error().err) + ")");
    out.users.push_back(std::move(admin));
    out.generated_password = std::move(password);
    return out;
  }
  // Password hashes: owner-only, tightened with a warning when they were not.
  if (auto notice = util::make_private(path); notice && !notice->empty())
    spdlog::warn("console: {}", *notice);
  std::ifstream in(path);
  if (!in) return fail(path + ": cannot read the console users file");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    std::string origin = path + ":" + std::to_string(number);
    std::string where = origin + ": ";
    if (colon == std::string::npos || colon == 0) return fail(where + "expected name:hash");
    User user{line.substr(0, colon), line.substr(colon + 1), origin};
    if (auto ok = check_hash_format(user.password_hash); !ok) return fail(where + ok.error());
    out.users.push_back(std::move(user));
  }
  if (out.users.empty()) return fail(path + ": the console users file names no user");
  return out;
}

Result<SessionTable::Created, std::string> SessionTable::create(const std::string& user,
                                                                const std::string& role,
                                                                WallClock::time_point now) {
  const auto expires = std::chrono::floor<std::chrono::seconds>(now + ttl_);
  Created created{util::random_hex(32), Session{user, util::random_hex(32), expires, role}};
  auto stored = store_.put_session(
      {sha256_hex(created.token), user, created.session.csrf_token, expires, role});
  if (!stored) return fail(stored.error().message);
  return created;
}

Result<std::optional<Session>, std::string> SessionTable::find(std::string_view token,
                                                               WallClock::time_point now) {
  if (token.empty()) return std::optional<Session>();
  auto found = store_.find_session(sha256_hex(token), now);
  if (!found) return fail(found.error().message);
  if (!*found) return std::optional<Session>();
  const auto& s = **found;
  return std::optional<Session>(Session{s.user, s.csrf_token, s.expires, s.role});
}

void SessionTable::remove(std::string_view token) {
  if (token.empty()) return;
  if (auto ok = store_.delete_session(sha256_hex(token)); !ok)
    spdlog::warn("console: cannot remove a session: {}", ok.error().message);
}

std::chrono::seconds LoginThrottle::wait(const Table& table, const std::string& key, unsigned free,
                                         SteadyClock::time_point now) const {
  auto it = table.find(key);
  if (it == table.end() || it->second.count < free) return std::chrono::seconds(0);
  unsigned excess = std::min(it->second.count - free, 20u);
  auto delay = std::min(std::chrono::seconds(1ll << excess), max_delay_);
  auto ready = it->second.last + delay;
  if (now >= ready) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(ready - now);
}

void LoginThrottle::count(Table& table, const std::string& key, SteadyClock::time_point now) {
  // Bounded memory under a spray of addresses: forget the quietest entry.
  if (table.size() >= kMaxClients && !table.contains(key)) {
    auto oldest = std::min_element(table.begin(), table.end(),
                                   [](auto& a, auto& b) { return a.second.last < b.second.last; });
    table.erase(oldest);
  }
  auto& f = table[key];
  ++f.count;
  f.last = now;
}

std::chrono::seconds LoginThrottle::wait_time(const std::string& client,
                                              SteadyClock::time_point now) const {
  std::lock_guard lock(mutex_);
  return wait(clients_, client, free_attempts_, now);
}

void LoginThrottle::failed(const std::string& client, SteadyClock::time_point now) {
  std::lock_guard lock(mutex_);
  count(clients_, client, now);
}

void LoginThrottle::succeeded(const std::string& client) {
  std::lock_guard lock(mutex_);
  clients_.erase(client);
}

std::chrono::seconds LoginThrottle::user_wait_time(const std::string& user, bool known,
                                                   const std::string& client,
                                                   SteadyClock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (known && trusted_.contains({user, client})) return std::chrono::seconds(0);
  return wait(users_, known ? user : std::string(), user_free_attempts_, now);
}

void LoginThrottle::user_failed(const std::string& user, bool known, SteadyClock::time_point now) {
  std::lock_guard lock(mutex_);
  count(users_, known ? user : std::string(), now);
}

void LoginThrottle::user_succeeded(const std::string& user, const std::string& client) {
  std::lock_guard lock(mutex_);
  users_.erase(user);
  if (trusted_.size() >= kMaxTrusted && !trusted_.contains({user, client})) {
    auto oldest = std::min_element(trusted_.begin(), trusted_.end(),
                                   [](auto& a, auto& b) { return a.second < b.second; });
    trusted_.erase(oldest);
  }
  trusted_[{user, client}] = ++trust_clock_;
}

}  // namespace cordon::console
