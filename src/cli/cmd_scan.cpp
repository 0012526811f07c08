// `cordon scan`: inspect messages offline with the configured policies (no
// --config: the built-in policy pack) and print a verdict per message.
//
// --format json prints one compact JSON object per message, one per line
// (JSON Lines): {"file","verdict","policies":[{"name","severity","matches":
// [{"rule","component","count","samples"}]}],"reply"} ("reply" only when
// blocked; "problems" when parts could not be inspected). A file that
// cannot be read or parsed prints {"file","error"}.
//
// Each message goes through the same pipeline as in the mail path
// (inspect::inspect), without L7 filters, loop stamp or incident store:
// offline scans record no incident, so the block reply says
// "Incident ID: not recorded".
// The envelope is taken from the headers: From is the sender, To/Cc/Bcc the
// recipients (policy exceptions apply to it as they would in the mail path).
//
// Exit status: 2 if any file could not be scanned (the detection engine
// failing on it included) or the configuration is bad, else 1 if any
// message violated a policy (an unscannable finding included), else 0.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "inspect/from_config.hpp"
#include "inspect/inspect.hpp"
#include "inspect/json.hpp"
#include "util/utf8.hpp"

namespace cordon::cli {

// Compiled detection databases are kept in the user's cache directory, so
// that a scan with policies compiled before starts in milliseconds instead
// of compiling (seconds for big keyword lists). Nothing when neither
// XDG_CACHE_HOME nor HOME is set.
std::optional<std::string> compiled_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/cordon/detect-cache";
  const char* home = std::getenv("HOME");
  if (home && *home == '/') return std::string(home) + "/.cache/cordon/detect-cache";
  return std::nullopt;
}

namespace {

struct ScanOptions {
  std::string config;
  std::string format = "text";
  bool no_cache = false;
  std::vector<std::string> files;
};

// Beyond this many files a progress line on a terminal is worth its noise.
constexpr std::size_t kProgressThreshold = 20;

// Reads a whole file into `data` (reused from file to file, so a scan of
// many messages allocates its read buffer once): one read() per file.
Status<std::string> read_input(const std::string& file, std::string& data) {
  if (file == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return fail(std::string("cannot read standard input"));
    return Ok{};
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open: " + std::string(std::strerror(errno)));
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  std::size_t size = 0;
  // Sized from fstat, but read to the end: the file may grow or shrink.
  data.resize(regular ? static_cast<std::size_t>(st.st_size) + 1 : 65536);
  for (;;) {
    if (size == data.size()) data.resize(data.size() * 2);
    const ssize_t n = ::read(fd, data.data() + size, data.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : 0;
      ::close(fd);
      data.resize(size);
      if (error == EISDIR) return fail(std::string("cannot read (a directory?)"));
      if (error != 0) return fail("cannot read: " + std::string(std::strerror(error)));
      return Ok{};
    }
    size += static_cast<std::size_t>(n);
  }
}

nlohmann::json verdict_json(const std::string& file, const policy::Verdict& v,
                            const std::string& reply, const std::vector<mime::Problem>& problems) {
  nlohmann::json out = {{"file", file}, {"verdict", policy::to_string(v.action)}};
  out["policies"] = inspect::policies_json(v);
  if (!reply.empty() && v.action == policy::Action::block) out["reply"] = reply;
  if (v.action == policy::Action::redirect) out["redirect"] = v.redirect;
  if (v.action == policy::Action::hold) out["hold"] = v.hold;
  if (v.action == policy::Action::modify) {
    if (!v.modify.subject_prefix.empty()) out["subject_prefix"] = v.modify.subject_prefix;
    if (!v.modify.add_headers.empty()) out["add_headers"] = v.modify.add_headers;
  }
  if (!problems.empty()) out["problems"] = mime::problem_texts(problems);
  return out;
}

std::string json_line(const nlohmann::json& j) {
  // File names and samples may hold bytes that are not UTF-8: replace them
  // rather than fail the whole scan.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The same line as json_line(verdict_json(...)), byte for byte (keys in
// nlohmann's sorted order, its escapes), written straight into `out`:
// building the JSON tree cost a twentieth of a scan. False, with `out` in
// any state, when a string is not valid UTF-8 (nlohmann's replacement of
// invalid bytes is then used).
class VerdictWriter {
 public:
  explicit VerdictWriter(std::string& out) : out_(out) { out_.clear(); }

  bool write(const std::string& file, const policy::Verdict& v, const std::string& reply,
             const std::vector<mime::Problem>& problems) {
    const bool modify = v.action == policy::Action::modify;
    out_ += '{';
    if (modify && !v.modify.add_headers.empty()) {
      key("add_headers");
      if (!strings(v.modify.add_headers)) return false;
      out_ += ',';
    }
    key("file");
    if (!string(file)) return false;
    if (v.action == policy::Action::hold) {
      out_ += ',';
      key("hold");
      if (!string(v.hold)) return false;
    }
    out_ += ',';
    key("policies");
    out_ += '[';
    for (std::size_t i = 0; i < v.policies.size(); ++i) {
      const auto& p = v.policies[i];
      if (i) out_ += ',';
      out_ += '{';
      key("matches");
      out_ += '[';
      for (std::size_t k = 0; k < p.matches.size(); ++k) {
        const auto& m = p.matches[k];
        if (k) out_ += ',';
        out_ += '{';
        key("component");
        if (!string(m.component)) return false;
        out_ += ',';
        key("count");
        out_ += std::to_string(m.count);
        out_ += ',';
        key("rule");
        if (!string(m.rule)) return false;
        out_ += ',';
        key("samples");
        if (!strings(m.samples)) return false;
        out_ += '}';
      }
      out_ += "],";
      key("name");
      if (!string(p.name)) return false;
      out_ += ',';
      key("severity");
      if (!string(policy::to_string(p.severity))) return false;
      out_ += '}';
    }
    out_ += ']';
    if (!problems.empty()) {
      out_ += ',';
      key("problems");
      if (!strings(mime::problem_texts(problems))) return false;
    }
    if (v.action == policy::Action::redirect) {
      out_ += ',';
      key("redirect");
      if (!string(v.redirect)) return false;
    }
    if (!reply.empty() && v.action == policy::Action::block) {
      out_ += ',';
      key("reply");
      if (!string(reply)) return false;
    }
    if (modify && !v.modify.subject_prefix.empty()) {
      out_ += ',';
      key("subject_prefix");
      if (!string(v.modify.subject_prefix)) return false;
    }
    out_ += ',';
    key("verdict");
    if (!string(policy::to_string(v.action))) return false;
    out_ += '}';
    return true;
  }

 private:
  void key(std::string_view k) {
    out_ += '"';
    out_ += k;
    out_ += "\":";
  }

  bool strings(const std::vector<std::string>& values) {
    out_ += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) out_ += ',';
      if (!string(values[i])) return false;
    }
    out_ += ']';
    return true;
  }

  // nlohmann's escapes without ensure_ascii: the two-character forms for
  // " \\ \b \f \n \r \t, \u00XX for the other control characters, every
  // other byte as it is.
  bool string(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    std::size_t pos = 0;
    while (pos < s.size()) {
      const auto c = static_cast<unsigned char>(s[pos]);
      if (c >= 0x80) {
        const std::size_t n = util::utf8_sequence_length(s, pos);
        if (n == 0) return false;
        out_.append(s.substr(pos, n));
        pos += n;
        continue;
      }
      ++pos;
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_ += kHex[c >> 4];
            out_ += kHex[c & 0xF];
          } else {
            out_ += static_cast<char>(c);
          }
      }
    }
    out_ += '"';
    return true;
  }

  std::string& out_;
};

void print_text(const std::string& file, const policy::Verdict& v, const std::string& reply,
                const std::vector<mime::Problem>& problems) {
  std::printf("%s: %s\n", file.c_str(), std::string(policy::to_string(v.action)).c_str());
  for (const auto& p : v.policies) {
    std::printf("  policy \"%s\" (%s)\n", p.name.c_str(),
                std::string(policy::to_string(p.severity)).c_str());
    for (const auto& m : p.matches) {
      std::string samples;
      for (const auto& s : m.samples) samples += (samples.empty() ? "" : ", ") + s;
      std::printf("    %s in %s: %zu unique [%s]\n", m.rule.c_str(), m.component.c_str(), m.count,
                  samples.c_str());
    }
  }
  if (!v.redirect.empty() && v.action == policy::Action::redirect)
    std::printf("  redirect to %s\n", v.redirect.c_str());
  if (v.action == policy::Action::hold) std::printf("  hold: %s\n", v.hold.c_str());
  if (!reply.empty() && v.action == policy::Action::block) {
    std::istringstream lines(reply);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::printf("  reply: %s\n", line.c_str());
    }
  }
  for (const auto& problem : problems) std::printf("  not inspected: %s\n", problem.detail.c_str());
}

void report_error(const ScanOptions& opts, const std::string& file, const std::string& error) {
  std::fprintf(stderr, "cordon scan: %s: %s\n", file.c_str(), error.c_str());
  if (opts.format == "json")
    std::printf("%s\n", json_line({{"file", file}, {"error", error}}).c_str());
}

int scan(const ScanOptions& opts) {
  config::LoadOptions load;
  if (!opts.no_cache) load.cache_dir = compiled_cache_dir();
  auto loaded = opts.config.empty() ? config::default_config(load)
                                    : config::load_config_file(opts.config, load);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 2;
  }
  auto snapshot = inspect::make_snapshot(inspect::options_from(**loaded));
  if (auto ready = inspect::warm_up(*snapshot); !ready) {
    std::fprintf(stderr, "cordon scan: %s\n", ready.error().c_str());
    return 2;
  }
  bool progress = ::isatty(STDERR_FILENO) && opts.files.size() > kProgressThreshold;
  bool any_error = false, any_violation = false;
  std::size_t done = 0;
  std::string bytes;
  std::string line;  // one JSON line, reused
  for (const auto& file : opts.files) {
    if (progress) std::fprintf(stderr, "\rscanned %zu/%zu files", done, opts.files.size());
    ++done;
    std::string shown = file == "-" ? "<stdin>" : file;
    if (auto read = read_input(file, bytes); !read) {
      any_error = true;
      report_error(opts, shown, read.error());
      continue;
    }
    // Attachments are expanded, so their members are scanned as components
    // of their own ("attachment:report.zip/q3/customers.xlsx").
    inspect::Inspection r = inspect::inspect(bytes, std::nullopt, *snapshot, nullptr);
    if (r.parse_error) {
      any_error = true;
      report_error(opts, shown, "cannot parse the message: " + r.parse_error->detail);
      continue;
    }
    if (r.disposition == inspect::Disposition::scan_failed) {
      // Never a pass: the file counts as not scanned.
      any_error = true;
      report_error(opts, shown, "cannot scan the message: " + r.detail);
      continue;
    }
    if (r.disposition != inspect::Disposition::inspected) {
      any_error = true;
      report_error(opts, shown, "cannot inspect the message: " + r.detail);
      continue;
    }
    any_violation = any_violation || r.verdict.violated();
    if (opts.format == "json") {
      if (!VerdictWriter(line).write(shown, r.verdict, r.block_reply, r.problems))
        line = json_line(verdict_json(shown, r.verdict, r.block_reply, r.problems));
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
      print_text(shown, r.verdict, r.block_reply, r.problems);
    }
    std::fflush(stdout);
  }
  if (progress) std::fprintf(stderr, "\rscanned %zu/%zu files\n", done, opts.files.size());
  return any_error ? 2 : any_violation ? 1 : 0;
}

}  // namespace

void add_scan_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ScanOptions>();
  auto* cmd =
      app.add_subcommand("scan", "Inspect messages offline; exit 0 clean, 1 violation(s), 2 error");
  cmd->add_option("--config", opts->config,
                  "YAML configuration file (default: built-in policy pack)");
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag(
      "--no-cache", opts->no_cache,
      "Do not keep compiled policies in $XDG_CACHE_HOME/cordon (default ~/.cache/cordon)");
  cmd->add_option("files", opts->files, "Message files (.eml), or - for standard input")
      ->required();
  cmd->callback([&exit_code, opts] { exit_code = scan(*opts); });
}

}  // namespace cordon::cli
