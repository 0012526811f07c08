// cordon's configuration model and loader: the whole YAML file as typed,
// validated values. A loaded Config is an immutable snapshot shared by
// every role behind shared_ptr<const Config>; a reload loads a new one and
// swaps the pointer, so a session keeps the snapshot it began with.
//
// Every error names the file, the 1-based line and column of the offending
// YAML node, and what is wrong.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "detect/detect.hpp"
#include "extract/extract.hpp"
#include "mime/mime.hpp"
#include "util/log.hpp"
#include "util/result.hpp"

namespace cordon::policy {

using Duration = std::chrono::milliseconds;

// Where a value was written: 1-based line and column (0 when unknown, e.g.
// for defaults that were not written in the file).
struct SourceMark {
  int line = 0;
  int col = 0;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when the error is not tied to a position
  int col = 0;
  std::string message;

  // "file:line:col: error: message" (or "file: error: message").
  std::string to_string() const;
};

// host:port. IPv6 literals are written in brackets: "[::1]:25".
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

// An IPv4 or IPv6 network, e.g. 127.0.0.0/8 or ::1/128 (a bare address is a
// single-host network).
struct Cidr {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> bytes{};  // network address, first 4 used for IPv4
  int prefix = 0;
  std::string text;  // as written

  // True if `address` (textual IPv4/IPv6; IPv4-mapped IPv6 counts as IPv4)
  // lies inside this network. An unparsable address is never inside.
  bool contains(std::string_view address) const;
};

enum class Role { gateway, prevent, monitor, console };
std::string_view to_string(Role role);

enum class TlsMode { none, opportunistic, required };

struct DlpConfig {
  std::vector<HostPort> hosts;  // tried in order
  Duration connect_timeout = std::chrono::seconds(5);
  Duration session_timeout = std::chrono::seconds(30);
  TlsMode tls = TlsMode::none;
  bool bypass = true;  // false: fail closed (stay queued)
};

struct RetryConfig {
  std::vector<Duration> schedule = {std::chrono::minutes(1), std::chrono::minutes(5),
                                    std::chrono::minutes(15), std::chrono::hours(1)};
  Duration max_lifetime = std::chrono::hours(24);
};

struct GatewayConfig {
  HostPort listen{"127.0.0.1", 2525};
  HostPort resubmit_listen{"127.0.0.1", 10026};
  std::vector<Cidr> relay_networks;  // default 127.0.0.0/8 and ::1/128
  DlpConfig dlp;
  std::optional<HostPort> smarthost;  // deliver: host:port; empty = deliver: maildir
  RetryConfig retry;
  // Domains the gateway accepts mail for from clients outside
  // relay_networks (lower case); empty: outside clients may send nothing.
  std::vector<std::string> local_domains;
  // The listener answers 452 4.3.1 when the queue's file system would keep
  // less than this free.
  std::uint64_t min_free = 64u << 20;
  // One delay DSN after a message has waited this long; zero = never.
  Duration delay_warning = std::chrono::hours(4);
  // Messages in flight at once per destination (each DLP host, the next hop).
  std::size_t concurrency = 20;
  // Greeting, Received and DSN Reporting-MTA name; empty = the system host name.
  std::string hostname;
};

struct BlockReplyConfig {
  int code = 550;
  std::string enhanced = "5.7.0";
  std::size_t max_reply_bytes = 1000;
  std::size_t max_line_bytes = 512;  // including CRLF
  SourceMark mark;                   // of the block_reply section, for later checks
};

// L7 filters: comma-separated mask lists (see policy/filter.hpp).
struct FilterConfig {
  std::string sender;
  std::string recipient;
};

enum class PreventMode { reflect, forward };

struct PreventConfig {
  HostPort listen{"127.0.0.1", 10025};
  PreventMode mode = PreventMode::reflect;
  HostPort next_hop{"127.0.0.1", 10026};  // forward mode downstream; reflect: the gateway
  BlockReplyConfig block_reply;
  FilterConfig filters;
};

struct MonitorConfig {
  std::string capture;  // interface name or a .pcap file
  std::vector<std::uint16_t> ports = {25, 587};
  FilterConfig filters;
};

// A console user; password_hash is "pbkdf2-sha256$ITERATIONS$SALT_HEX$KEY_HEX".
struct ConsoleUser {
  std::string name;
  std::string password_hash;
  SourceMark mark;
};

struct ConsoleConfig {
  HostPort listen{"127.0.0.1", 8025};
  // Who may sign in; empty: the console keeps (and on first run generates)
  // <data_dir>/console-users.
  std::vector<ConsoleUser> users;
  std::string tls_cert;  // PEM files; both set: HTTPS only
  std::string tls_key;
  Duration session_ttl = std::chrono::hours(8);
  // /metrics without a session; unset: only when listening on loopback.
  std::optional<bool> metrics_public;
};

// SMTP server limits shared by the gateway and prevent listeners.
struct SmtpLimits {
  std::size_t max_line_length = 1000;  // octets including CRLF (RFC 5321 4.5.3.1.6)
  std::size_t max_message_size = 50u << 20;
  std::size_t max_recipients = 1000;
  std::size_t max_errors = 10;  // protocol errors before the session is closed
  Duration command_timeout = std::chrono::minutes(5);
  Duration idle_timeout = std::chrono::minutes(5);
  std::size_t max_connections = 100;
  // Per client address, like Postfix's anvil (0 switches each off): at most
  // this many concurrent sessions (over: 421 4.7.0 and close), and at most
  // this many connections a minute (over: 421 4.7.0 and close).
  std::size_t max_connections_per_client = 20;
  std::size_t max_connection_rate_per_client = 600;
  // Networks exempt from the two per-client limits (not from
  // max_connections). Absent from the file: loopback (127.0.0.0/8, ::1), so
  // a gateway and a prevent on one host never throttle each other (Postfix
  // exempts $mynetworks the same way); `[]` exempts nobody. A prevent behind
  // gateways on other hosts lists their addresses here.
  std::vector<Cidr> client_limit_exceptions;
  // Wall-clock bounds no trickle of bytes extends (421 4.4.2 and close): the
  // whole session, and DATA from 354 to the final dot (at most the session's).
  Duration max_session_time = std::chrono::minutes(30);
  Duration max_data_time = std::chrono::minutes(10);
};

struct LogConfig {
  util::LogFormat format = util::LogFormat::text;
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
};

// ---- policies ----

enum class Severity { info, low, medium, high };
std::string_view to_string(Severity severity);

// Where a policy's rules look. Bit flags.
enum ComponentMask : unsigned {
  kEnvelope = 1u << 0,
  kSubject = 1u << 1,
  kHeaders = 1u << 2,
  kBody = 1u << 3,
  kAttachments = 1u << 4,
  kAllComponents = kEnvelope | kSubject | kHeaders | kBody | kAttachments,
};

// How min_count counts unique matched values: within each component
// separately (default), or across the whole message.
enum class CountScope { per_component, per_message };

struct PolicyRule {
  detect::Rule rule;
  std::size_t min_count = 1;  // unique values (by value hash) needed for the rule to hold
  std::string display;        // "identifier:credit_card", "keywords", "regex:ACME-[0-9]{6}"
  SourceMark mark;
};

enum class MatchMode { any, all };

struct BlockResponse {
  std::string text;  // sender-facing reply text
};
struct ModifyResponse {
  std::string subject_prefix;
  std::vector<std::string> add_headers;  // "Name: value"
};
struct RedirectResponse {
  std::string address;
};
using Response = std::variant<BlockResponse, ModifyResponse, RedirectResponse>;

// Raises a fired policy's severity when its total unique match count (over
// all rules and components) reaches min_count.
struct SeverityTier {
  std::size_t min_count = 0;
  Severity severity = Severity::high;
};

struct Policy {
  std::string name;
  Severity severity = Severity::medium;
  std::vector<SeverityTier> severity_tiers;  // sorted by min_count ascending
  unsigned components = kAllComponents;      // ComponentMask bits
  MatchMode mode = MatchMode::any;
  std::vector<PolicyRule> rules;
  // `- attachment: {types, names, min_size, encrypted}` items of the match
  // list: each counts as one rule that holds when an attachment or an
  // extracted file meets it.
  std::vector<extract::FileCondition> attachment_conditions;
  CountScope count_scope = CountScope::per_component;
  // A policy does not fire for a sender matching except_senders, nor when
  // EVERY recipient matches except_recipients (masks as in L7 filters).
  std::vector<std::string> except_senders;
  std::vector<std::string> except_recipients;
  std::vector<Response> responses;  // in the order written
  SourceMark mark;
};

class PolicySet;  // policy/policy_set.hpp: policies + one compiled detection database

struct Config {
  std::string source = "<embedded>";  // file the config was read from
  std::string data_dir = "./cordon-data";
  std::string incidents = "sqlite";  // or a postgresql:// URL
  std::optional<GatewayConfig> gateway;
  std::optional<PreventConfig> prevent;
  std::optional<MonitorConfig> monitor;
  std::optional<ConsoleConfig> console;
  SmtpLimits smtp;
  mime::Limits mime;
  extract::Limits attachments;  // `attachments:` extraction limits and on_limit
  LogConfig log;
  std::vector<Policy> policies;
  // Compiled from `policies` by load_config_*(); null only after
  // parse_config_text(), which skips compilation.
  std::shared_ptr<const PolicySet> policy_set;

  // The roles this config runs: the sections present, in a fixed order.
  std::vector<Role> roles() const;
};

using ConfigResult = Result<std::shared_ptr<const Config>, ConfigError>;

// Reads, parses and fully validates a YAML file, compiling every policy
// rule (so a bad regex or an unknown identifier is reported here).
ConfigResult load_config_file(const std::string& path);

// Same as load_config_file, from text; `file_name` is used in errors.
ConfigResult load_config_text(std::string_view yaml, const std::string& file_name);

// The embedded default: gateway + prevent (reflect) + console on loopback,
// SQLite incidents, Maildir delivery, and the built-in policy pack.
ConfigResult default_config();
std::string_view default_config_yaml();

// Parses and checks structure and values only; does not compile rules
// (Config::policy_set stays null). For tools that must not need the
// detection engine.
ConfigResult parse_config_text(std::string_view yaml, const std::string& file_name);

// Value parsers used by the loader, exposed for other components and tests.
// Each returns an error message (without position) on failure.
Result<Duration, std::string> parse_duration(
    std::string_view text);                                          // "500ms" "5s" "1m" "24h" "2d"
Result<std::size_t, std::string> parse_size(std::string_view text);  // "512", "64KB", "10MB", "1GB"
Result<HostPort, std::string> parse_host_port(std::string_view text, bool allow_port_zero = false);
Result<Cidr, std::string> parse_cidr(std::string_view text);

}  // namespace cordon::policy
