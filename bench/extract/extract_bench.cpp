// Extraction benchmark: every file of a directory is attached to a message,
// expanded (extract::Extractor::expand) and scanned with the built-in
// policy pack (policy::Evaluator), timing each step. Prints input bytes,
// extracted text bytes, MB/s of extraction + scanning, and the share of
// time spent in each, overall and per file type.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "extract/extract.hpp"
#include "config/config.hpp"
#include "policy/evaluate.hpp"

using namespace cordon;
using Clock = std::chrono::steady_clock;

namespace {

struct Totals {
  std::size_t files = 0, input = 0, text = 0;
  double extract_s = 0, scan_s = 0;
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: extract_bench DIR [ROUNDS]\n");
    return 2;
  }
  int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  auto config = config::default_config();
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().to_string().c_str());
    return 2;
  }
  auto extractor = extract::Extractor::create((*config)->attachments);
  if (!extractor) {
    std::fprintf(stderr, "%s\n", extractor.error().detail.c_str());
    return 2;
  }
  policy::Evaluator evaluator((*config)->policy_set);
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& e : std::filesystem::directory_iterator(argv[1]))
    if (e.is_regular_file() && e.path().extension() != ".eml")
      files.emplace_back(e.path().filename().string(), read_file(e.path()));
  std::sort(files.begin(), files.end());

  Totals all;
  std::map<std::string, Totals> by_type;
  std::size_t violations = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& [name, bytes] : files) {
      mime::Message message;
      mime::Component c;
      c.kind = mime::ComponentKind::attachment;
      c.name = "attachment:" + name;
      c.filename = name;
      c.data = bytes;
      c.size = bytes.size();
      c.is_text = false;
      message.components.push_back(std::move(c));
      auto t0 = Clock::now();
      auto expansion = extractor->expand(message);
      auto t1 = Clock::now();
      auto verdict = evaluator.evaluate(message, {"a@example.com", {"b@example.org"}}, &expansion);
      auto t2 = Clock::now();
      if (!verdict) {
        std::fprintf(stderr, "scan failed: %s\n", verdict.error().describe().c_str());
        return 2;
      }
      violations += verdict->violated();
      std::size_t text = 0;
      for (const auto& comp : message.components) text += comp.text.size();
      std::string type = expansion.files.empty() ? "?" : expansion.files.front().type;
      for (Totals* t : {&all, &by_type[type]}) {
        ++t->files;
        t->input += bytes.size();
        t->text += text;
        t->extract_s += seconds(t1 - t0);
        t->scan_s += seconds(t2 - t1);
      }
    }
  }
  auto mb = [](std::size_t b) { return static_cast<double>(b) / (1 << 20); };
  std::printf("%-70s %6s %9s %9s %9s %8s %7s\n", "type", "files", "input_MB", "text_MB", "MB/s",
              "ms/file", "extract%");
  for (const auto& [type, t] : by_type) {
    double total = t.extract_s + t.scan_s;
    std::printf("%-70s %6zu %9.2f %9.2f %9.1f %8.3f %7.1f\n", type.c_str(), t.files, mb(t.input),
                mb(t.text), mb(t.input) / total, 1000.0 * total / static_cast<double>(t.files),
                100.0 * t.extract_s / total);
  }
  double total = all.extract_s + all.scan_s;
  std::printf("files %zu\ninput_mb %.2f\ntext_mb %.2f\n", all.files, mb(all.input), mb(all.text));
  std::printf("extract_s %.3f\nscan_s %.3f\n", all.extract_s, all.scan_s);
  std::printf("mbps_input %.1f\nmbps_text_scanned %.1f\n", mb(all.input) / total,
              mb(all.text) / all.scan_s);
  std::printf("share_extract %.1f%%\nshare_scan %.1f%%\nviolating_messages %zu\n",
              100.0 * all.extract_s / total, 100.0 * all.scan_s / total, violations);
  return 0;
}
