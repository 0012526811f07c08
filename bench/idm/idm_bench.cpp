// IDM benchmark. Usage: idm_bench [WORK_DIR]  (IDM_BENCH_DOCS, default
// 1000 documents of IDM_BENCH_WORDS words, default 2000; IDM_BENCH_MB of
// mail text, default 64)
//
// Generates the documents (prose of made-up words, each document its own
// text) and writes them to WORK_DIR/docs with a configuration for
// `cordon idm index` (run.sh times that), indexes them in-process (wall
// time, bytes of index per normalised character), opens the index (time),
// then evaluates mail text with a policy set holding only an idm
// condition (CPU time, best of three after a warm-up: MB/s on one core)
// and prints "name value" lines. Every tenth mail carries a third of a
// document, which must be found.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "detect/idm.hpp"
#include "policy/evaluate.hpp"
#include "policy/policy_set.hpp"

namespace fs = std::filesystem;
using namespace cordon;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double wall_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string syllable_word(std::mt19937_64& rng) {
  static const char* s[] = {"ka",  "lo", "mi", "ra", "ten", "bo", "sel", "vin", "dar", "ul",
                            "mor", "e",  "an", "is", "tor", "pe", "lin", "ga",  "ro",  "su"};
  std::string w;
  int n = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < n; ++i) w += s[rng() % 20];
  return w;
}

std::string prose(std::mt19937_64& rng, const std::vector<std::string>& vocabulary,
                  std::size_t words) {
  std::string out;
  for (std::size_t i = 0; i < words; ++i) {
    const std::string& w = vocabulary[rng() % vocabulary.size()];
    if (i % 12 == 0 && i) out += ".\n";
    out += i % 12 == 0 ? std::string(1, static_cast<char>(w[0] - 32)) + w.substr(1) : w;
    out += ' ';
  }
  return out + ".\n";
}

}  // namespace

int main(int argc, char** argv) {
  fs::path work = argc > 1 ? argv[1] : "bench-idm-data";
  auto env = [](const char* name, std::size_t fallback) {
    return std::getenv(name) ? std::stoul(std::getenv(name)) : fallback;
  };
  const std::size_t ndocs = env("IDM_BENCH_DOCS", 1000);
  const std::size_t words = env("IDM_BENCH_WORDS", 2000);
  const std::size_t mail_mb = env("IDM_BENCH_MB", 64);
  fs::create_directories(work / "keys");
  fs::create_directories(work / "index");
  fs::create_directories(work / "docs");
  std::mt19937_64 rng(42);
  std::vector<std::string> vocabulary;
  for (int i = 0; i < 5000; ++i) vocabulary.push_back(syllable_word(rng));

  std::vector<detect::idm::Document> docs;
  std::size_t doc_bytes = 0;
  for (std::size_t d = 0; d < ndocs; ++d) {
    std::string name = "doc-" + std::to_string(d) + ".txt";
    std::string text = prose(rng, vocabulary, words);
    std::ofstream(work / "docs" / name, std::ios::binary) << text;
    doc_bytes += text.size();
    docs.push_back({name, std::move(text)});
  }
  std::printf("documents %zu\ndocument_bytes %zu\n", ndocs, doc_bytes);
  const std::string idm_yaml =
      "idm:\n  key_file: " + (work / "keys/idm.key").string() +
      "\n  profiles:\n    - {name: docs, index: " + (work / "index/docs.idm").string() + "}\n";
  std::ofstream(work / "index.yaml") << idm_yaml;

  fs::remove(work / "keys/idm.key");
  auto key = detect::idm::load_or_create_key(work / "keys/idm.key");
  if (!key) return std::fprintf(stderr, "%s\n", key.error().message.c_str()), 2;
  auto t = std::chrono::steady_clock::now();
  auto stats = detect::idm::build_index(docs, {}, "docs", *key, work / "index/docs.idm");
  if (!stats) return std::fprintf(stderr, "%s\n", stats.error().message.c_str()), 2;
  std::printf(
      "index_build_s %.2f\nindex_characters %zu\nindex_fingerprints %zu\nindex_bytes %zu\n"
      "index_bytes_per_character %.3f\n",
      wall_since(t), stats->characters, stats->fingerprints, stats->index_bytes,
      static_cast<double>(stats->index_bytes) / static_cast<double>(stats->characters));
  t = std::chrono::steady_clock::now();
  auto index = detect::idm::Index::open(work / "index/docs.idm", *key, "docs");
  if (!index) return std::fprintf(stderr, "%s\n", index.error().message.c_str()), 2;
  std::printf("index_load_s %.4f\n", wall_since(t));

  // Mail: other prose of the same vocabulary; every tenth mail quotes a
  // third of a document.
  std::vector<std::string> bodies;
  std::size_t total = 0, planted = 0;
  while (total < mail_mb << 20) {
    std::string b = prose(rng, vocabulary, 8000);
    if (bodies.size() % 10 == 0) {
      const std::string& d = docs[bodies.size() / 10 % docs.size()].text;
      b += "\n> " + d.substr(d.size() / 3, d.size() / 3) + "\n";
      ++planted;
    }
    total += b.size();
    bodies.push_back(std::move(b));
  }
  std::string policy =
      "policies:\n  - name: Documents\n    match:\n      any:\n"
      "        - idm: {profile: docs, min_percent: 25}\n";
  auto loaded = config::load_config_text(idm_yaml + policy, "idm.yaml");
  if (!loaded) return std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str()), 2;
  policy::Evaluator evaluator((*loaded)->policy_set);
  auto run = [&](std::size_t& fired) {
    fired = 0;
    double c = cpu_seconds();
    for (const auto& b : bodies) {
      mime::Message m;
      mime::Component body;
      body.kind = mime::ComponentKind::body;
      body.name = "body";
      body.text = b;
      m.components.push_back(std::move(body));
      auto v = evaluator.evaluate(m, {"a@corp.test", {"b@ext.test"}});
      if (v && !v->policies.empty()) ++fired;
    }
    return cpu_seconds() - c;
  };
  // The same mail as files, for the whole path (run.sh times `cordon scan`
  // without and with the idm condition).
  fs::create_directories(work / "mail");
  for (std::size_t i = 0; i < bodies.size(); ++i)
    std::ofstream(work / "mail" / ("m" + std::to_string(i) + ".eml"), std::ios::binary)
        << "From: a@corp.test\nTo: b@ext.test\nSubject: report " << i
        << "\nContent-Type: text/plain\n\n"
        << bodies[i];
  const std::string base_policy =
      "policies:\n  - name: Keywords\n    match:\n      any:\n"
      "        - keywords: [confidential, \"project neptune\"]\n";
  std::ofstream(work / "base.yaml") << base_policy;
  std::ofstream(work / "idm.yaml") << idm_yaml + base_policy +
                                          "  - name: Documents\n    match:\n      any:\n"
                                          "        - idm: {profile: docs, min_percent: 25}\n";

  std::size_t fired = 0;
  run(fired);  // warm-up
  double best = 1e9;
  for (int i = 0; i < 3; ++i) best = std::min(best, run(fired));
  const double mb = static_cast<double>(total) / (1 << 20);
  std::printf("mail_mb %.1f\nmails %zu\nmails_with_excerpt %zu\nmails_fired %zu\n", mb,
              bodies.size(), planted, fired);
  std::printf("evaluate_idm_cpu_s %.3f\nevaluate_idm_mb_per_s %.1f\n", best, mb / best);
  return fired == planted ? 0 : 1;
}
