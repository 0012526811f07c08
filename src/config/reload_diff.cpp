// What a reload cannot apply: the differences between the configuration a
// process started with and a newly loaded one that only a restart puts in
// force (listen addresses, roles, data_dir, listener limits...). The list
// mirrors docs/configuration.md#reloading.
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cordon::config {
namespace {

class Changes {
 public:
  void compare(std::string_view what, const std::string& before, const std::string& after) {
    if (before != after)
      lines_.push_back(std::string(what) + " " + shown(before) + " -> " + shown(after));
  }
  void note(std::string line) { lines_.push_back(std::move(line)); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  static std::string shown(const std::string& value) { return value.empty() ? "''" : value; }
  std::vector<std::string> lines_;
};

std::string roles_text(const Config& c) {
  std::string out;
  for (auto role : c.roles()) out += (out.empty() ? "" : ",") + std::string(to_string(role));
  return out.empty() ? "none" : out;
}

std::string smtp_text(const SmtpLimits& s) {
  std::string out = std::to_string(s.max_line_length) + "/" + std::to_string(s.max_message_size) +
                    "/" + std::to_string(s.max_recipients) + "/" + std::to_string(s.max_errors) +
                    "/" + format_duration(s.command_timeout) + "/" +
                    format_duration(s.idle_timeout) + "/" + std::to_string(s.max_connections) +
                    "/" + std::to_string(s.max_connections_per_client) + "/" +
                    std::to_string(s.max_connection_rate_per_client) + "/" +
                    format_duration(s.max_session_time) + "/" + format_duration(s.max_data_time);
  for (const auto& cidr : s.client_limit_exceptions) out += "/" + cidr.text;
  return out;
}

std::string hosts_text(const std::vector<HostPort>& hosts) {
  std::string out;
  for (const auto& h : hosts) out += (out.empty() ? "" : ",") + h.to_string();
  return out;
}

std::string tls_text(const ServerTlsConfig& t) {
  return t.cert + "|" + t.key + "|" + (t.require ? "required" : "offered");
}

std::string networks_text(const std::vector<Cidr>& networks) {
  std::string out;
  for (const auto& n : networks) out += (out.empty() ? "" : ",") + n.text;
  return out;
}

std::string console_text(const ConsoleConfig& c) {
  std::string out = c.tls_cert + "|" + c.tls_key + "|" + format_duration(c.session_ttl) + "|" +
                    (c.metrics_public ? (*c.metrics_public ? "public" : "private") : "default");
  for (const auto& u : c.users) out += "|" + u.name + ":" + u.password_hash;
  return out;
}

}  // namespace

std::vector<std::string> changes_needing_restart(const Config& running, const Config& next) {
  Changes changes;
  changes.compare("roles", roles_text(running), roles_text(next));
  changes.compare("data_dir", running.data_dir, next.data_dir);
  changes.compare("incidents", running.incidents, next.incidents);
  changes.compare("run_as", running.run_as, next.run_as);
  changes.compare("log.level", running.log.level, next.log.level);
  changes.compare("log.format", running.log.format == util::LogFormat::json ? "json" : "text",
                  next.log.format == util::LogFormat::json ? "json" : "text");
  if (smtp_text(running.smtp) != smtp_text(next.smtp))
    changes.note("smtp (listener limits) changed");
  if (running.gateway && next.gateway) {
    const auto &a = *running.gateway, &b = *next.gateway;
    changes.compare("gateway.listen", a.listen.to_string(), b.listen.to_string());
    changes.compare("gateway.resubmit_listen", a.resubmit_listen.to_string(),
                    b.resubmit_listen.to_string());
    changes.compare("gateway.concurrency", std::to_string(a.concurrency),
                    std::to_string(b.concurrency));
    changes.compare("gateway.hostname", a.hostname, b.hostname);
    changes.compare("gateway.min_free", std::to_string(a.min_free), std::to_string(b.min_free));
    if (tls_text(a.tls) != tls_text(b.tls))
      changes.note("gateway (tls_cert, tls_key, require_tls) changed");
    if (hosts_text(a.dlp.hosts) != hosts_text(b.dlp.hosts))
      changes.note(
          "gateway.dlp.hosts changed: messages go to the new hosts now, but resubmit_listen "
          "keeps accepting only the hosts resolved at start (" +
          hosts_text(a.dlp.hosts) + ")");
  }
  if (running.prevent && next.prevent) {
    changes.compare("prevent.listen", running.prevent->listen.to_string(),
                    next.prevent->listen.to_string());
    if (tls_text(running.prevent->tls) != tls_text(next.prevent->tls))
      changes.note("prevent (tls_cert, tls_key, require_tls) changed");
    changes.compare("prevent.xforward_networks", networks_text(running.prevent->xforward_networks),
                    networks_text(next.prevent->xforward_networks));
  }
  if (running.milter && next.milter)
    changes.compare("milter.listen",
                    running.milter->unix_path.empty() ? running.milter->listen.to_string()
                                                      : "unix:" + running.milter->unix_path,
                    next.milter->unix_path.empty() ? next.milter->listen.to_string()
                                                   : "unix:" + next.milter->unix_path);
  if (running.monitor && next.monitor) {
    changes.compare("monitor.capture", running.monitor->capture, next.monitor->capture);
    changes.compare("monitor.bpf_filter", running.monitor->bpf_filter, next.monitor->bpf_filter);
    auto ports = [](const MonitorConfig& m) {
      std::string out;
      for (auto p : m.ports) out += (out.empty() ? "" : ",") + std::to_string(p);
      return out;
    };
    changes.compare("monitor.ports", ports(*running.monitor), ports(*next.monitor));
  }
  if (running.console && next.console) {
    changes.compare("console.listen", running.console->listen.to_string(),
                    next.console->listen.to_string());
    if (console_text(*running.console) != console_text(*next.console))
      changes.note("console (users, tls_cert, tls_key, session_ttl, metrics_public) changed");
  }
  return changes.take();
}

}  // namespace cordon::config
