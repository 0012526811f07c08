// scan_bench: throughput of the detection engine on one core over a corpus
// made by gen_corpus.py: (a) the bare Vectorscan block scan with the
// compiled database (the practical ceiling), (b) the engine's full
// scan + validate path, (c) compile time cold and from the cache.
// Usage: scan_bench CORPUS_DIR [PASSES]
//
// Whole-path mode, on message files as they arrive (gen_corpus.py
// --files-mb/--mime-mb): the in-process inspection used by prevent and
// `cordon scan` (inspect::inspect: MIME parse, decode, extraction, policy
// evaluation), and two raw Vectorscan block scans over the same bytes: with
// the engine's own compiled database, and with a reference database of the
// same keywords as plain caseless literals plus the same regexes (the
// practical ceiling for these patterns).
// Usage: scan_bench --files CONFIG LIST_FILE [PASSES]
//   LIST_FILE: one message file per line.
// Prints "name value" lines that run.sh reads.
#include <time.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "detect/database.hpp"
#include "detect/detect.hpp"
#include "inspect/from_config.hpp"
#include "inspect/inspect.hpp"
#include "policy/policy_set.hpp"

namespace {

// CPU time of the process, not wall time: the benchmark runs on machines
// shared with other work, and every contender runs on one core.
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};
namespace detect = cordon::detect;

double seconds_since(Clock::time_point start) {
  return Clock::now() - start;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// Messages start with an mbox "From " line.
std::vector<std::string_view> split_messages(std::string_view corpus) {
  std::vector<std::string_view> messages;
  std::size_t start = 0;
  while (start < corpus.size()) {
    std::size_t next = corpus.find("\nFrom ", start);
    next = next == std::string_view::npos ? corpus.size() : next + 1;
    messages.push_back(corpus.substr(start, next - start));
    start = next;
  }
  return messages;
}

std::vector<detect::Rule> policy_rules(const std::filesystem::path& dir) {
  std::vector<detect::Rule> rules;
  const auto keywords = read_lines(dir / "keywords.txt");
  for (std::size_t i = 0; i < keywords.size(); i += 100)  // ten keyword lists of 100
    rules.push_back({detect::KeywordRule{std::vector<std::string>(
        keywords.begin() + static_cast<long>(i),
        keywords.begin() + static_cast<long>(std::min(i + 100, keywords.size())))}});
  for (const auto& re : read_lines(dir / "regexes.txt")) rules.push_back({detect::RegexRule{re}});
  for (const auto& name : detect::identifier_names())
    rules.push_back({detect::IdentifierRule{name, detect::Confidence::medium, 300, {}}});
  return rules;
}

int count_match(unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
  ++*static_cast<std::size_t*>(context);
  return 0;
}

struct HsFree {
  void operator()(hs_database_t* d) const { hs_free_database(d); }
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};

// Best of `passes` block scans of every message with each database.
double raw_scan_mbps(const std::vector<const hs_database_t*>& dbs,
                     const std::vector<std::string>& messages, double mb, int passes,
                     std::size_t& matches) {
  hs_scratch_t* scratch = nullptr;
  for (const auto* db : dbs)
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) return 0;
  std::unique_ptr<hs_scratch_t, HsFree> owned(scratch);
  double best = 1e300;
  for (int p = 0; p < passes; ++p) {
    matches = 0;
    const auto start = Clock::now();
    for (const auto& m : messages)
      for (const auto* db : dbs)
        hs_scan(db, m.data(), static_cast<unsigned>(m.size()), 0, scratch, count_match, &matches);
    best = std::min(best, seconds_since(start));
  }
  return mb / best;
}

// The same keywords as caseless literals (no word boundary, no Unicode
// folding) and the same regexes: what Vectorscan does at its fastest.
std::unique_ptr<hs_database_t, HsFree> reference_database(const cordon::policy::PolicySet& set) {
  std::vector<std::string> literals, regexes;
  for (const auto& policy : set.policies())
    for (const auto& rule : policy.rules) {
      if (const auto* kw = std::get_if<detect::KeywordRule>(&rule.rule.what))
        literals.insert(literals.end(), kw->keywords.begin(), kw->keywords.end());
      else if (const auto* re = std::get_if<detect::RegexRule>(&rule.rule.what))
        regexes.push_back(re->pattern);
    }
  // Vectorscan has no mixed literal/regex compile: a literal is written as
  // an escaped expression, which its literal analysis treats the same.
  std::vector<std::string> expressions;
  std::vector<unsigned> flags, ids;
  for (const auto& lit : literals) {
    std::string e;
    for (const char c : lit) {
      if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
        e.push_back(c);
      } else {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
        e += hex;
      }
    }
    expressions.push_back(std::move(e));
    flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
  }
  for (const auto& re : regexes) {
    expressions.push_back(re);
    flags.push_back(0);
  }
  std::vector<const char*> pointers;
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    pointers.push_back(expressions[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(pointers.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(pointers.size()), HS_MODE_BLOCK, nullptr, &db,
                       &error) != HS_SUCCESS) {
    std::fprintf(stderr, "reference compile failed: %s\n", error ? error->message : "?");
    hs_free_compile_error(error);
    return nullptr;
  }
  return std::unique_ptr<hs_database_t, HsFree>(db);
}

int files_mode(const char* config_file, const char* list_file, int passes) {
  auto loaded = cordon::config::load_config_file(config_file);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 1;
  }
  const auto& set = *(*loaded)->policy_set;
  std::vector<std::string> messages;
  std::size_t bytes = 0;
  for (const auto& file : read_lines(list_file)) {
    messages.push_back(read_file(file));
    bytes += messages.back().size();
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("files %zu\nfiles_mb %.1f\n", messages.size(), mb);

  // For profiling the inspection alone: SCAN_BENCH_INSPECT_ONLY=1.
  const bool inspect_only = std::getenv("SCAN_BENCH_INSPECT_ONLY") != nullptr;
  std::size_t matches = 0;
  std::vector<const hs_database_t*> engine_units;
  if (!inspect_only) {
    for (const auto& unit : set.database()->units) engine_units.push_back(unit.get());
    std::printf("raw_engine_db_mbps %.1f\n",
                raw_scan_mbps(engine_units, messages, mb, passes, matches));
    std::printf("raw_engine_db_matches %zu\n", matches);
    auto reference = reference_database(set);
    if (!reference) return 1;
    std::printf("raw_reference_mbps %.1f\n",
                raw_scan_mbps({reference.get()}, messages, mb, passes, matches));
    std::printf("raw_reference_matches %zu\n", matches);
  }

  auto snapshot = cordon::inspect::make_snapshot(cordon::inspect::options_from(**loaded));
  if (auto ready = cordon::inspect::warm_up(*snapshot); !ready) {
    std::fprintf(stderr, "%s\n", ready.error().c_str());
    return 1;
  }
  double best = 1e300;
  std::size_t violations = 0, failures = 0;
  for (int p = 0; p < passes; ++p) {
    violations = failures = 0;
    const auto start = Clock::now();
    for (const auto& m : messages) {
      const auto r = cordon::inspect::inspect(m, std::nullopt, *snapshot, nullptr);
      failures += r.disposition != cordon::inspect::Disposition::inspected;
      violations += r.verdict.violated();
    }
    best = std::min(best, seconds_since(start));
  }
  std::printf("inspect_mbps %.1f\ninspect_violations %zu\ninspect_failures %zu\n", mb / best,
              violations, failures);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string_view(argv[1]) == "--files")
    return files_mode(argv[2], argv[3], argc > 4 ? std::max(1, std::atoi(argv[4])) : 2);
  if (argc < 2) {
    std::fprintf(stderr, "usage: scan_bench CORPUS_DIR [PASSES]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const auto rules = policy_rules(dir);
  const std::string corpus = read_file(dir / "decoded.txt");
  const auto messages = split_messages(corpus);
  const double mb = static_cast<double>(corpus.size()) / 1e6;
  std::printf("corpus_mb %.1f\nmessages %zu\nrules %zu\n", mb, messages.size(), rules.size());

  // (c) compile: cold (empty cache directory) and from the cache.
  const auto cache_dir = dir / "hs-cache";
  std::filesystem::remove_all(cache_dir);
  auto start = Clock::now();
  auto cold = detect::compile(rules, cache_dir);
  const double cold_s = seconds_since(start);
  if (!cold) {
    std::fprintf(stderr, "compile failed at rule %zu: %s\n", cold.error().rule_index,
                 cold.error().reason.c_str());
    return 1;
  }
  start = Clock::now();
  auto cached = detect::compile(rules, cache_dir);
  const double cached_s = seconds_since(start);
  if (!cached || !detect::describe(**cached).loaded_from_cache) {
    std::fprintf(stderr, "second compile did not load from the cache\n");
    return 1;
  }
  const auto info = detect::describe(**cold);
  std::printf("patterns %zu\ndatabase_bytes %zu\ncompile_cold_s %.3f\ncompile_cached_s %.4f\n",
              info.pattern_count, info.bytes, cold_s, cached_s);

  // (a) bare Vectorscan block scan, message by message.
  const detect::Database& db = **cold;
  hs_scratch_t* scratch = nullptr;
  for (const auto& unit : db.units)
    if (hs_alloc_scratch(unit.get(), &scratch) != HS_SUCCESS) return 1;
  double best_raw = 1e300;
  std::size_t raw_matches = 0;
  for (int p = 0; p < passes; ++p) {
    raw_matches = 0;
    start = Clock::now();
    for (const auto m : messages)
      for (const auto& unit : db.units)
        hs_scan(unit.get(), m.data(), static_cast<unsigned>(m.size()), 0, scratch, count_match,
                &raw_matches);
    best_raw = std::min(best_raw, seconds_since(start));
  }
  hs_free_scratch(scratch);
  std::printf("raw_vectorscan_mbps %.1f\nraw_matches %zu\n", mb / best_raw, raw_matches);

  // (b) the engine: scan, validate, proximity, masking.
  detect::Scanner scanner(*cold);
  double best_engine = 1e300;
  std::size_t findings = 0, identifier_findings = 0;
  const std::size_t first_identifier_rule = rules.size() - detect::identifier_names().size();
  for (int p = 0; p < passes; ++p) {
    findings = identifier_findings = 0;
    start = Clock::now();
    for (const auto m : messages) {
      auto scanned = scanner.scan(m);
      if (!scanned) {
        std::fprintf(stderr, "scan failed: %s\n", scanned.error().detail.c_str());
        return 2;
      }
      for (const auto& rf : *scanned) {
        findings += rf.findings.size();
        if (rf.rule_index >= first_identifier_rule) identifier_findings += rf.findings.size();
      }
    }
    best_engine = std::min(best_engine, seconds_since(start));
  }
  std::printf("engine_mbps %.1f\nfindings %zu\nidentifier_findings %zu\n", mb / best_engine,
              findings, identifier_findings);
  return 0;
}
