// scan_bench: throughput of the detection engine on one core over a corpus
// made by gen_corpus.py: (a) the bare Vectorscan block scan with the
// compiled database (the practical ceiling), (b) the engine's full
// scan + validate path, (c) compile time cold and from the cache.
// Usage: scan_bench CORPUS_DIR [PASSES]
// Prints "name value" lines that run.sh reads.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "detect/database.hpp"
#include "detect/detect.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace detect = cordon::detect;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
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

}  // namespace

int main(int argc, char** argv) {
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
