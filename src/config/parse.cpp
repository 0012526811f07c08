// Reads the YAML configuration into a Config: the top level and the role
// sections (policies are read by policy_parse.cpp). Structure and values
// only; compiling the rules is config_load.cpp's job.
#include "config/detail/yaml_include.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

#include "config/detail/policy_parse.hpp"
#include "config/detail/yaml_reader.hpp"
#include "policy/filter.hpp"
#include "policy/ip_filter.hpp"

namespace cordon::config {
namespace {

using yaml::DurationRange;
using yaml::fail_at;
using yaml::MapReader;
using namespace std::chrono_literals;

// Durations where zero (or an absurd value) would mean "never works": each
// key's accepted range and what a value outside it would do.
constexpr DurationRange kDlpConnectTimeout{
    100ms, 10min,
    "every connection to DLP would time out, so every message would bypass DLP (or, with "
    "bypass: false, stay queued)"};
constexpr DurationRange kDlpSessionTimeout{
    1s, 1h,
    "every DLP session would time out, so every message would bypass DLP (or, with "
    "bypass: false, stay queued)"};
constexpr DurationRange kRetention{1h, 24h * 3650, "or 0, which keeps incidents forever"};
constexpr DurationRange kRetryDelay{1s, 24h * 30,
                                    "a deferred message would be retried in a tight loop"};
constexpr DurationRange kMaxLifetime{1s, 24h * 90,
                                     "a message would bounce at its first temporary failure"};
constexpr DurationRange kSmtpTimeout{
    1s, 1h, "every client would be disconnected with 421 before it could send anything"};
constexpr DurationRange kMilterIdleTimeout{
    1s, 24h, "every MTA connection would be closed before its message arrived"};
constexpr DurationRange kMilterProgress{
    100ms, 10min, "the MTA's content timeout could fire during a long inspection"};
constexpr DurationRange kMonitorIdleTimeout{
    1s, 24h, "every captured connection would be dropped as idle between two packets"};
constexpr DurationRange kExtractTime{
    100ms, 10min, "every message with an attachment would hit attachments.max_time"};

// A filter that does not parse is reported at the offending character.
std::string checked_filter(const MapReader& m, std::string_view key) {
  std::string text = m.string(key, "");
  auto parsed = policy::parse_filter(text);
  if (!parsed) {
    SourceMark at = m.value_mark(key);
    // Quoted scalars (tag "!") start one column before their text.
    bool quoted = m.get(key).Tag() == "!";
    at.col += static_cast<int>(parsed.error().offset) + (quoted ? 1 : 0);
    m.report(at, m.section() + "." + std::string(key) + ": " + parsed.error().message);
  }
  return text;
}

// A list of CIDR networks; absent: loopback (127.0.0.0/8 and ::1).
std::vector<Cidr> cidr_list(const MapReader& m, std::string_view key) {
  if (!m.has(key)) return {*parse_cidr("127.0.0.0/8"), *parse_cidr("::1/128")};
  const std::string where = m.section() + "." + std::string(key);
  auto node = m.get(key);
  std::vector<std::string> list;
  if (!m.attempt([&] { list = yaml::as_string_list(node, where, m.value_mark(key)); })) return {};
  std::vector<Cidr> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto cidr = parse_cidr(list[i]);
    if (!cidr) {
      m.report(yaml::mark_of(node[i], m.value_mark(key)), where + ": " + cidr.error());
      continue;
    }
    out.push_back(*cidr);
  }
  return out;
}

// A PEM file the listener will load at start: reported here, at the key,
// when it is missing, unreadable or holds no PEM block.
void check_pem_file(const MapReader& m, std::string_view key, const std::string& path) {
  const std::string where = m.section() + "." + std::string(key);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    m.report(m.value_mark(key), where + ": " + path + " is a directory");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    m.report(m.value_mark(key), where + ": cannot read " + path + ": " + std::strerror(errno));
    return;
  }
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find("-----BEGIN ") == std::string::npos)
    m.report(m.value_mark(key), where + ": " + path + " holds no PEM data");
}

// tls_cert, tls_key and require_tls of an SMTP listener's section.
ServerTlsConfig read_server_tls(const MapReader& m) {
  ServerTlsConfig tls;
  tls.cert = m.string("tls_cert", "");
  tls.key = m.string("tls_key", "");
  tls.require = m.boolean("require_tls", false);
  if (!tls.cert.empty()) tls.mark = m.value_mark("tls_cert");
  if (tls.cert.empty() != tls.key.empty()) {
    m.report(m.value_mark(tls.cert.empty() ? "tls_key" : "tls_cert"),
             m.section() + ": tls_cert and tls_key go together");
    return tls;
  }
  if (!tls.cert.empty()) {
    check_pem_file(m, "tls_cert", tls.cert);
    check_pem_file(m, "tls_key", tls.key);
  }
  if (tls.require && tls.cert.empty())
    m.report(m.value_mark("require_tls"), m.section() + ".require_tls needs tls_cert and tls_key");
  return tls;
}

FilterConfig read_filters(const MapReader& parent, const std::string& section) {
  MapReader m(parent, "filters", section + ".filters", {"sender", "recipient"});
  return {checked_filter(m, "sender"), checked_filter(m, "recipient")};
}

GatewayConfig read_gateway(const MapReader& top) {
  MapReader m(top, "gateway", "gateway",
              {"listen", "resubmit_listen", "relay_networks", "dlp", "deliver", "retry",
               "local_domains", "min_free", "delay_warning", "concurrency", "hostname", "tls_cert",
               "tls_key", "require_tls"});
  GatewayConfig g;
  g.listen = m.host_port("listen", g.listen, true);
  g.resubmit_listen = m.host_port("resubmit_listen", g.resubmit_listen, true);
  g.relay_networks = cidr_list(m, "relay_networks");

  m.attempt([&] {
    MapReader dlp(m, "dlp", "gateway.dlp",
                  {"hosts", "connect_timeout", "session_timeout", "tls", "tls_ca_file",
                   "tls_server_name", "bypass"});
    if (dlp.has("hosts")) {
      auto node = dlp.get("hosts");
      auto list = dlp.string_list("hosts");
      bool bad = false;
      for (std::size_t i = 0; i < list.size(); ++i) {
        auto hp = parse_host_port(list[i]);
        if (!hp) {
          dlp.report(yaml::mark_of(node[i], dlp.value_mark("hosts")),
                     "gateway.dlp.hosts: " + hp.error());
          bad = true;
          continue;
        }
        g.dlp.hosts.push_back(*hp);
      }
      if (g.dlp.hosts.empty() && !bad && (node.IsSequence() || node.IsNull()))
        dlp.report(dlp.value_mark("hosts"), "gateway.dlp.hosts must name at least one DLP server");
    } else {
      g.dlp.hosts = {HostPort{"127.0.0.1", 10025}};
    }
    g.dlp.connect_timeout =
        dlp.duration("connect_timeout", g.dlp.connect_timeout, kDlpConnectTimeout);
    g.dlp.session_timeout =
        dlp.duration("session_timeout", g.dlp.session_timeout, kDlpSessionTimeout);
    g.dlp.tls = static_cast<TlsMode>(dlp.choice("tls", 0, {"none", "opportunistic", "required"}));
    g.dlp.tls_ca_file = dlp.string("tls_ca_file", "");
    g.dlp.tls_server_name = dlp.string("tls_server_name", "");
    g.dlp.bypass = dlp.boolean("bypass", true);
  });

  std::string deliver = m.string("deliver", "maildir");
  if (deliver != "maildir") {
    auto hp = parse_host_port(deliver);
    if (hp)
      g.smarthost = *hp;
    else
      m.report(m.value_mark("deliver"),
               "gateway.deliver must be maildir or host:port: " + hp.error());
  }

  m.attempt([&] {
    MapReader retry(m, "retry", "gateway.retry", {"schedule", "max_lifetime"});
    if (retry.has("schedule")) {
      auto node = retry.get("schedule");
      if (!node.IsSequence() || node.size() == 0) {
        retry.report(
            yaml::mark_of(node, retry.value_mark("schedule")),
            "gateway.retry.schedule must be a non-empty list of durations, like [1m, 5m, 1h]");
      } else {
        g.retry.schedule.clear();
        for (const auto& item : node)
          retry.attempt([&] {
            g.retry.schedule.push_back(yaml::as_duration(
                item, "gateway.retry.schedule item", kRetryDelay, retry.value_mark("schedule")));
          });
      }
    }
    g.retry.max_lifetime = retry.duration("max_lifetime", g.retry.max_lifetime, kMaxLifetime);
  });

  for (auto domain : m.string_list("local_domains")) {
    for (auto& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (domain.empty() || domain.find_first_of("@ \t") != std::string::npos)
      m.report(m.value_mark("local_domains"),
               "gateway.local_domains: '" + domain + "' is not a domain name");
    else
      g.local_domains.push_back(domain);
  }
  g.min_free = m.size("min_free", g.min_free);
  g.delay_warning = m.duration("delay_warning", g.delay_warning);
  g.concurrency = m.unsigned_number("concurrency", g.concurrency, 1, 10000);
  g.hostname = m.string("hostname", "");
  g.tls = read_server_tls(m);
  return g;
}

BlockReplyConfig read_block_reply(const MapReader& role) {
  const std::string where = role.section() + ".block_reply";
  MapReader m(role, "block_reply", where,
              {"code", "enhanced", "max_reply_bytes", "max_line_bytes"});
  BlockReplyConfig b;
  b.mark = m.mark();
  b.code = static_cast<int>(m.unsigned_number("code", 550, 500, 599));
  b.enhanced = m.string("enhanced", b.enhanced);
  // An enhanced status code is class.subject.detail (RFC 3463) and must
  // agree with the reply code's class.
  auto dot1 = b.enhanced.find('.');
  auto dot2 = dot1 == std::string::npos ? dot1 : b.enhanced.find('.', dot1 + 1);
  bool digits_only = b.enhanced.find_first_not_of("0123456789.") == std::string::npos;
  if (!digits_only || dot2 == std::string::npos ||
      b.enhanced.find('.', dot2 + 1) != std::string::npos || dot1 == 0 || dot2 == dot1 + 1 ||
      dot2 + 1 == b.enhanced.size() || b.enhanced[0] != '5' || dot1 != 1)
    m.report(m.value_mark("enhanced"),
             where + ".enhanced must be an RFC 3463 code of class 5, like 5.7.0, got '" +
                 b.enhanced + "'");
  // 64 octets leave room for "550-5.7.0 " and some text; 512 is RFC 5321's limit.
  b.max_line_bytes = m.unsigned_number("max_line_bytes", b.max_line_bytes, 64, 512);
  b.max_reply_bytes =
      m.unsigned_number("max_reply_bytes", b.max_reply_bytes, b.max_line_bytes, 1u << 16);
  return b;
}

PreventConfig read_prevent(const MapReader& top) {
  MapReader m(top, "prevent", "prevent",
              {"listen", "mode", "next_hop", "block_reply", "filters", "client_networks",
               "tls_cert", "tls_key", "require_tls", "xforward_networks"});
  PreventConfig p;
  p.listen = m.host_port("listen", p.listen, true);
  p.mode = static_cast<PreventMode>(m.choice("mode", 0, {"reflect", "forward"}));
  p.next_hop = m.host_port("next_hop", p.next_hop);
  m.attempt([&] { p.block_reply = read_block_reply(m); });
  m.attempt([&] { p.filters = read_filters(m, "prevent"); });
  p.client_networks = cidr_list(m, "client_networks");
  p.tls = read_server_tls(m);
  p.xforward_networks =
      m.has("xforward_networks") ? cidr_list(m, "xforward_networks") : std::vector<Cidr>{};
  return p;
}

MonitorConfig read_monitor(const MapReader& top) {
  MapReader m(top, "monitor", "monitor",
              {"capture", "ports", "ip_filter", "filters", "bpf_filter", "max_connections",
               "max_buffered_per_connection", "max_buffered_total", "idle_timeout",
               "max_message_bytes", "max_line_bytes"});
  MonitorConfig mon;
  mon.capture = m.string("capture", "");
  if (mon.capture.empty())
    m.report(m.has("capture") ? m.value_mark("capture") : m.mark(),
             "monitor.capture must name an interface (like eth0) or a .pcap file");
  if (m.has("ports")) {
    auto node = m.get("ports");
    if (!node.IsSequence() || node.size() == 0) {
      m.report(yaml::mark_of(node, m.value_mark("ports")),
               "monitor.ports must be a non-empty list of TCP ports, like [25, 587]");
    } else {
      mon.ports.clear();
      for (const auto& item : node)
        m.attempt([&] {
          mon.ports.push_back(static_cast<std::uint16_t>(
              yaml::as_unsigned(item, "monitor.ports item", 1, 65535, m.value_mark("ports"))));
        });
    }
  }
  mon.ip_filter = m.string("ip_filter", "");
  if (auto parsed = policy::parse_ip_filter(mon.ip_filter); !parsed)
    m.report(m.value_mark("ip_filter"), "monitor." + parsed.error().message);
  m.attempt([&] { mon.filters = read_filters(m, "monitor"); });
  mon.bpf_filter = m.string("bpf_filter", "");
  mon.max_connections = m.unsigned_number("max_connections", mon.max_connections, 1, 10000000);
  mon.max_buffered_per_connection =
      m.size("max_buffered_per_connection", mon.max_buffered_per_connection);
  mon.max_buffered_total = m.size("max_buffered_total", mon.max_buffered_total);
  mon.idle_timeout = m.duration("idle_timeout", mon.idle_timeout, kMonitorIdleTimeout);
  mon.max_message_bytes = m.size("max_message_bytes", mon.max_message_bytes);
  mon.max_line_bytes = m.unsigned_number("max_line_bytes", mon.max_line_bytes, 512, 1 << 20);
  if (mon.max_buffered_per_connection == 0 || mon.max_buffered_total == 0 ||
      mon.max_message_bytes == 0)
    m.report(m.mark(), "monitor: the max_buffered_* and max_message_bytes limits must be above 0");
  return mon;
}

MilterConfig read_milter(const MapReader& top) {
  MapReader m(top, "milter", "milter",
              {"listen", "max_frame_bytes", "max_message_size", "idle_timeout", "progress_interval",
               "block_reply", "filters"});
  MilterConfig c;
  const std::string listen = m.string("listen", c.listen.to_string());
  if (listen.rfind("unix:", 0) == 0) {
    c.unix_path = listen.substr(5);
    if (c.unix_path.empty() || c.unix_path.front() != '/')
      m.report(
          m.value_mark("listen"),
          "milter.listen: a unix socket needs an absolute path, like unix:/run/cordon/milter.sock");
  } else {
    c.listen = m.host_port("listen", c.listen, true);
  }
  // A body chunk is at most 64 KiB; the frame must hold one.
  c.max_frame_bytes = m.unsigned_number("max_frame_bytes", c.max_frame_bytes, 65536 + 16, 1u << 30);
  c.max_message_size = m.size("max_message_size", c.max_message_size);
  if (c.max_message_size == 0)
    m.report(m.value_mark("max_message_size"), "milter.max_message_size must not be 0");
  c.idle_timeout = m.duration("idle_timeout", c.idle_timeout, kMilterIdleTimeout);
  c.progress_interval = m.duration("progress_interval", c.progress_interval, kMilterProgress);
  m.attempt([&] { c.block_reply = read_block_reply(m); });
  m.attempt([&] { c.filters = read_filters(m, "milter"); });
  return c;
}

ConsoleConfig read_console(const MapReader& top) {
  MapReader m(top, "console", "console",
              {"listen", "users", "tls_cert", "tls_key", "session_ttl", "metrics_public"});
  ConsoleConfig c;
  c.listen = m.host_port("listen", c.listen, true);
  if (m.has("users")) {
    auto node = m.get("users");
    if (!node.IsSequence())
      fail_at(node, "console.users must be a list of {name, password_hash}", m.value_mark("users"));
    for (std::size_t i = 0; i < node.size(); ++i) {
      m.attempt([&] {
        std::string where = "console.users[" + std::to_string(i) + "]";
        MapReader u(node[i], where, {"name", "password_hash"}, yaml::mark_of(node[i]),
                    m.problems());
        ConsoleUser user{u.string("name", ""), u.string("password_hash", ""), u.mark()};
        if (user.name.empty() || user.name.find(':') != std::string::npos)
          fail_at(node[i], where + ".name must be a non-empty name without ':'");
        if (user.password_hash.rfind("pbkdf2-sha256$", 0) != 0)
          fail_at(u.has("password_hash") ? u.value_mark("password_hash") : u.mark(),
                  where + ".password_hash must be a pbkdf2-sha256$ITERATIONS$SALT$KEY hash");
        for (const auto& other : c.users)
          if (other.name == user.name) fail_at(node[i], where + ": user '" + user.name + "' twice");
        c.users.push_back(std::move(user));
      });
    }
  }
  c.tls_cert = m.string("tls_cert", "");
  if (!c.tls_cert.empty()) c.tls_mark = m.value_mark("tls_cert");
  c.tls_key = m.string("tls_key", "");
  if (c.tls_cert.empty() != c.tls_key.empty())
    m.report(m.mark(), "console: tls_cert and tls_key go together");
  c.session_ttl = m.duration("session_ttl", c.session_ttl);
  if (c.session_ttl < std::chrono::minutes(1))
    m.report(m.value_mark("session_ttl"), "console.session_ttl must be at least 1m");
  if (m.has("metrics_public")) c.metrics_public = m.boolean("metrics_public", true);
  return c;
}

SmtpLimits read_smtp(const MapReader& top) {
  MapReader m(top, "smtp", "smtp",
              {"max_line_length", "max_message_size", "max_recipients", "max_errors",
               "command_timeout", "idle_timeout", "max_connections", "max_connections_per_client",
               "max_connection_rate_per_client", "client_limit_exceptions", "max_session_time",
               "max_data_time"});
  SmtpLimits s;
  s.max_line_length = m.unsigned_number("max_line_length", s.max_line_length, 512, 1u << 20);
  s.max_message_size = m.size("max_message_size", s.max_message_size);
  if (s.max_message_size == 0)
    m.report(m.value_mark("max_message_size"), "smtp.max_message_size must not be 0");
  s.max_recipients = m.unsigned_number("max_recipients", s.max_recipients, 1, 100000);
  s.max_errors = m.unsigned_number("max_errors", s.max_errors, 1, 1000);
  s.command_timeout = m.duration("command_timeout", s.command_timeout, kSmtpTimeout);
  s.idle_timeout = m.duration("idle_timeout", s.idle_timeout, kSmtpTimeout);
  s.max_connections = m.unsigned_number("max_connections", s.max_connections, 1, 100000);
  s.max_connections_per_client =
      m.unsigned_number("max_connections_per_client", s.max_connections_per_client, 0, 100000);
  s.max_connection_rate_per_client = m.unsigned_number(
      "max_connection_rate_per_client", s.max_connection_rate_per_client, 0, 1000000);
  s.client_limit_exceptions = cidr_list(m, "client_limit_exceptions");
  s.max_session_time = m.duration("max_session_time", s.max_session_time);
  if (s.max_session_time < std::chrono::seconds(1))
    m.report(m.value_mark("max_session_time"), "smtp.max_session_time must be at least 1s");
  s.max_data_time = m.duration("max_data_time", s.max_data_time);
  if (s.max_data_time < std::chrono::seconds(1))
    m.report(m.value_mark("max_data_time"), "smtp.max_data_time must be at least 1s");
  else if (s.max_data_time > s.max_session_time && s.max_session_time >= std::chrono::seconds(1))
    m.report(m.value_mark(m.has("max_data_time") ? "max_data_time" : "max_session_time"),
             "smtp.max_data_time must not exceed smtp.max_session_time");
  return s;
}

mime::Limits read_mime(const MapReader& top) {
  MapReader m(top, "mime", "mime",
              {"max_depth", "max_parts", "max_header_bytes", "max_decoded_bytes"});
  mime::Limits l;
  l.max_depth = m.unsigned_number("max_depth", l.max_depth, 1, 1000);
  l.max_parts = m.unsigned_number("max_parts", l.max_parts, 1, 1000000);
  l.max_header_bytes = m.size("max_header_bytes", l.max_header_bytes);
  l.max_decoded_bytes = m.size("max_decoded_bytes", l.max_decoded_bytes);
  return l;
}

extract::Limits read_attachments(const MapReader& top) {
  MapReader m(top, "attachments", "attachments",
              {"max_depth", "max_message_bytes", "max_file_bytes", "max_ratio", "max_files",
               "max_time", "on_limit"});
  extract::Limits l;
  l.max_depth = m.unsigned_number("max_depth", l.max_depth, 0, 100);
  l.max_message_bytes = m.size("max_message_bytes", l.max_message_bytes);
  l.max_file_bytes = m.size("max_file_bytes", l.max_file_bytes);
  l.max_ratio = m.unsigned_number("max_ratio", l.max_ratio, 1, 1000000);
  l.max_files = m.unsigned_number("max_files", l.max_files, 1, 10000000);
  l.max_time = m.duration("max_time", l.max_time, kExtractTime);
  l.on_limit = static_cast<extract::LimitAction>(m.choice("on_limit", 0, {"violation", "note"}));
  return l;
}

// `retention: {incidents: 180d}`; `0` keeps incidents forever.
Duration read_retention(const MapReader& top) {
  MapReader m(top, "retention", "retention", {"incidents"});
  if (!m.has("incidents")) return Duration{0};
  if (m.get("incidents").IsScalar() && m.get("incidents").Scalar() == "0") return Duration{0};
  return m.duration("incidents", Duration{0}, kRetention);
}

LogConfig read_log(const MapReader& top) {
  MapReader m(top, "log", "log", {"format", "level"});
  LogConfig l;
  l.format = static_cast<util::LogFormat>(m.choice("format", 0, {"text", "json"}));
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  std::size_t level = m.choice(
      "level", 2,
      {kLevels[0], kLevels[1], kLevels[2], kLevels[3], kLevels[4], kLevels[5], kLevels[6]});
  l.level = std::string(kLevels[level]);
  return l;
}

// The embedded default's policy pack, read from its text (so the two can
// never differ). Its positions are those of the embedded text.
std::optional<std::vector<policy::Policy>> builtin_policies() {
  YAML::Node root = YAML::Load(std::string(default_config_yaml()));
  yaml::Problems problems;
  auto out = read_policies(root["policies"], SourceMark{}, problems);
  if (!problems.empty() || out.empty()) return std::nullopt;
  return out;
}

// Reads every section; each one's errors are recorded in `problems`, and a
// section that cannot be read on (not a mapping, an error that stops it)
// does not stop the others.
Config read_config(const YAML::Node& root, yaml::Problems& problems) {
  MapReader top(root, "the configuration",
                {"data_dir", "incidents", "gateway", "prevent", "monitor", "milter", "console",
                 "policies", "include_builtin_policies", "on_unscannable", "smtp", "mime",
                 "attachments", "log", "run_as", "retention", "edm", "idm"},
                SourceMark{1, 1}, &problems);
  Config c;
  c.data_dir = top.string("data_dir", c.data_dir);
  if (c.data_dir.empty()) top.report(top.value_mark("data_dir"), "data_dir must not be empty");
  c.incidents = top.string("incidents", c.incidents);
  if (top.has("incidents")) c.incidents_mark = top.value_mark("incidents");
  if (c.incidents != "sqlite" && c.incidents.rfind("postgresql://", 0) != 0 &&
      c.incidents.rfind("postgres://", 0) != 0)
    top.report(top.value_mark("incidents"),
               "incidents must be sqlite or a postgresql:// URL, got '" + c.incidents + "'");
  c.run_as = top.string("run_as", "");
  if (top.has("run_as") && c.run_as.empty())
    top.report(top.value_mark("run_as"), "run_as must name a user");
  if (top.has("retention")) top.attempt([&] { c.incidents_retention = read_retention(top); });
  if (top.has("gateway")) top.attempt([&] { c.gateway = read_gateway(top); });
  if (top.has("prevent")) top.attempt([&] { c.prevent = read_prevent(top); });
  if (top.has("monitor")) top.attempt([&] { c.monitor = read_monitor(top); });
  if (top.has("milter")) top.attempt([&] { c.milter = read_milter(top); });
  if (top.has("console")) top.attempt([&] { c.console = read_console(top); });
  top.attempt([&] { c.smtp = read_smtp(top); });
  top.attempt([&] { c.mime = read_mime(top); });
  top.attempt([&] { c.attachments = read_attachments(top); });
  top.attempt([&] { c.log = read_log(top); });
  if (top.has("policies"))
    top.attempt([&] {
      c.policies = read_policies(top.get("policies"), top.value_mark("policies"), problems);
    });
  c.include_builtin_policies = top.boolean("include_builtin_policies", false);
  if (c.include_builtin_policies) {
    auto pack = builtin_policies();
    // Tested to load; should it not, say so rather than run without it.
    if (!pack)
      top.report(top.value_mark("include_builtin_policies"),
                 "the built-in policy pack of this build does not load");
    auto builtin = pack.value_or(std::vector<policy::Policy>{});
    for (const auto& own : c.policies)
      for (const auto& b : builtin)
        if (b.name == own.name)
          top.report(own.mark, "policy '" + own.name +
                                   "' has the name of a built-in policy "
                                   "(include_builtin_policies: true); rename it");
    c.policies.insert(c.policies.begin(), std::make_move_iterator(builtin.begin()),
                      std::make_move_iterator(builtin.end()));
  }
  top.attempt([&] { c.on_unscannable = read_on_unscannable(top); });
  if (top.has("edm")) top.attempt([&] { c.edm = read_edm(top); });
  if (top.has("idm")) top.attempt([&] { c.idm = read_idm(top); });
  return c;
}

// The errors in file order (the sections are read in a fixed order), the
// first as the error itself and the others after it.
ConfigError to_error(const yaml::Problems& problems, const std::string& file_name) {
  std::vector<yaml::LoadFailure> sorted = problems.all();
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::pair(a.mark.line, a.mark.col) < std::pair(b.mark.line, b.mark.col);
  });
  ConfigError error{file_name, sorted[0].mark.line, sorted[0].mark.col, sorted[0].message};
  for (std::size_t i = 1; i < sorted.size(); ++i)
    error.more.push_back(
        ConfigError{file_name, sorted[i].mark.line, sorted[i].mark.col, sorted[i].message});
  return error;
}

}  // namespace

ConfigResult parse_config_text(std::string_view text, const std::string& file_name) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull())
      return fail(ConfigError{file_name, 0, 0, "the configuration is empty"});
    yaml::Problems problems;
    auto config = std::make_shared<Config>(read_config(root, problems));
    if (!problems.empty()) return fail(to_error(problems, file_name));
    config->source = file_name;
    return std::shared_ptr<const Config>(std::move(config));
  } catch (const yaml::LoadFailure& e) {
    return fail(ConfigError{file_name, e.mark.line, e.mark.col, e.message});
  } catch (const YAML::Exception& e) {
    // Syntax errors: yaml-cpp's marks are 0-based.
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    int col = e.mark.is_null() ? 0 : e.mark.column + 1;
    return fail(ConfigError{file_name, line, col, "YAML syntax error: " + e.msg});
  }
}

}  // namespace cordon::config
