// EDM benchmark. Usage: edm_bench [WORK_DIR]  (EDM_BENCH_ROWS, default
// 10000000; EDM_BENCH_MB of mail text, default 64)
//
// Generates a table of ROWS rows x 4 columns (name, ssn, card, email) in
// the run, indexes it (wall time, bytes per cell), opens the index (time),
// then evaluates the same mail text with a policy set of data identifiers
// and keywords, with and without an edm condition on the table (CPU time,
// best of three after a warm-up), and prints "name value" lines.
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
#include "detect/edm.hpp"
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
  int n = 2 + static_cast<int>(rng() % 2);
  for (int i = 0; i < n; ++i) w += s[rng() % 20];
  w[0] = static_cast<char>(w[0] - 32);
  return w;
}

std::string digits(std::mt19937_64& rng, int n) {
  std::string d;
  for (int i = 0; i < n; ++i) d.push_back(static_cast<char>('0' + rng() % 10));
  return d;
}

struct Row {
  std::string name, ssn, card, email;
};

Row make_row(std::mt19937_64& rng, const std::vector<std::string>& first,
             const std::vector<std::string>& last, std::size_t i) {
  Row r;
  const auto& f = first[rng() % first.size()];
  const auto& l = last[rng() % last.size()];
  r.name = f + " " + l;
  std::string s = digits(rng, 9);
  r.ssn = s.substr(0, 3) + "-" + s.substr(3, 2) + "-" + s.substr(5);
  std::string c = "4" + digits(rng, 15);
  r.card = c.substr(0, 4) + " " + c.substr(4, 4) + " " + c.substr(8, 4) + " " + c.substr(12);
  r.email = f + "." + l + std::to_string(i) + "@example.com";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path work = argc > 1 ? argv[1] : "bench-edm-data";
  std::size_t rows =
      std::getenv("EDM_BENCH_ROWS") ? std::stoul(std::getenv("EDM_BENCH_ROWS")) : 10'000'000;
  std::size_t mail_mb = std::getenv("EDM_BENCH_MB") ? std::stoul(std::getenv("EDM_BENCH_MB")) : 64;
  fs::create_directories(work / "keys");
  fs::create_directories(work / "index");
  std::mt19937_64 rng(42);
  std::vector<std::string> first, last;
  for (int i = 0; i < 3000; ++i) first.push_back(syllable_word(rng));
  for (int i = 0; i < 20000; ++i) last.push_back(syllable_word(rng));

  // The table, and a few of its rows kept to plant in the mail.
  std::vector<Row> planted;
  {
    auto t = std::chrono::steady_clock::now();
    std::ofstream csv(work / "table.csv", std::ios::binary);
    csv << "name,ssn,card,email\n";
    std::string line;
    for (std::size_t i = 0; i < rows; ++i) {
      Row r = make_row(rng, first, last, i);
      if (i % (rows / 100 + 1) == 0) planted.push_back(r);
      line = r.name + "," + r.ssn + "," + r.card + "," + r.email + "\n";
      csv.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    std::printf("table_rows %zu\ntable_csv_bytes %ju\ngenerate_s %.1f\n", rows,
                static_cast<std::uintmax_t>(fs::file_size(work / "table.csv")), wall_since(t));
  }
  const std::vector<detect::edm::Column> columns = {{"name", detect::edm::ColumnType::text},
                                                    {"ssn", detect::edm::ColumnType::digits},
                                                    {"card", detect::edm::ColumnType::digits},
                                                    {"email", detect::edm::ColumnType::email}};
  fs::remove(work / "keys/edm.key");
  auto key = detect::edm::load_or_create_key(work / "keys/edm.key");
  if (!key) return std::fprintf(stderr, "%s\n", key.error().message.c_str()), 2;
  auto t = std::chrono::steady_clock::now();
  auto stats = detect::edm::build_index(work / "table.csv", columns, *key, work / "index/t.edm");
  if (!stats) return std::fprintf(stderr, "%s\n", stats.error().message.c_str()), 2;
  std::printf("index_build_s %.1f\nindex_cells %zu\nindex_bytes %zu\nbytes_per_cell %.2f\n",
              wall_since(t), stats->cells, stats->index_bytes,
              static_cast<double>(stats->index_bytes) / static_cast<double>(stats->cells));
  // A profile of the typed columns only (digits and e-mail: no free text,
  // so no word is ever looked up), from the same table.
  const std::vector<detect::edm::Column> typed_columns(columns.begin() + 1, columns.end());
  t = std::chrono::steady_clock::now();
  auto typed_stats =
      detect::edm::build_index(work / "table.csv", typed_columns, *key, work / "index/typed.edm");
  if (!typed_stats) return std::fprintf(stderr, "%s\n", typed_stats.error().message.c_str()), 2;
  std::printf("typed_index_build_s %.1f\n", wall_since(t));
  fs::remove(work / "table.csv");

  t = std::chrono::steady_clock::now();
  auto index = detect::edm::Index::open(work / "index/t.edm", *key, columns);
  if (!index) return std::fprintf(stderr, "%s\n", index.error().message.c_str()), 2;
  std::printf("index_load_s %.4f\n", wall_since(t));

  // Mail text: words, some numbers and addresses, and planted rows (two
  // fields each) every so often.
  std::vector<std::string> bodies;
  std::size_t total = 0, planted_count = 0;
  static const char* common[] = {"the",      "and",     "meeting", "report",  "please", "find",
                                 "attached", "regards", "project", "invoice", "for",    "we"};
  while (total < mail_mb << 20) {
    std::string b;
    while (b.size() < 100'000) {
      auto roll = rng() % 1000;
      if (roll < 5)
        b += "ref " + digits(rng, 6) + " ";
      else if (roll < 7)
        b += "call 555-" + digits(rng, 3) + "-" + digits(rng, 4) + " ";
      else if (roll < 8)
        b += "mail bob" + digits(rng, 2) + "@corp.example ";
      else if (roll < 70)
        b += first[rng() % first.size()] + " ";
      else
        b += std::string(common[rng() % 12]) + (roll % 9 == 0 ? ".\n" : " ");
    }
    const Row& r = planted[bodies.size() % planted.size()];
    b += "\nCustomer " + r.name + ", SSN " + r.ssn + ", mail " + r.email + ".\n";
    ++planted_count;
    total += b.size();
    bodies.push_back(std::move(b));
  }
  std::string base_policy =
      "policies:\n  - name: Identifiers\n    match:\n      any:\n"
      "        - identifier: credit_card\n        - identifier: us_ssn\n"
      "        - identifier: email_address\n        - keywords: [confidential, \"project "
      "neptune\"]\n";
  std::string edm_yaml =
      "edm:\n  key_file: " + (work / "keys/edm.key").string() +
      "\n  profiles:\n    - {name: t, index: " + (work / "index/t.edm").string() +
      ", columns: [name, ssn, card, email]}\n    - {name: typed, index: " +
      (work / "index/typed.edm").string() + ", columns: [ssn, card, email]}\n";
  std::string edm_policy =
      "  - name: Customers\n    match:\n      any:\n        - edm: {profile: t, min_fields: 2}\n";
  std::string typed_policy =
      "  - name: Customers\n    match:\n      any:\n        - edm: {profile: typed, min_fields: "
      "2}\n";
  auto without = config::load_config_text(base_policy, "base.yaml");
  auto with = config::load_config_text(edm_yaml + base_policy + edm_policy, "edm.yaml");
  auto typed = config::load_config_text(edm_yaml + base_policy + typed_policy, "typed.yaml");
  for (const auto* c : {&without, &with, &typed})
    if (!*c) return std::fprintf(stderr, "%s\n", c->error().to_string().c_str()), 2;
  // One pass over the mail, in CPU seconds.
  auto pass = [&](policy::Evaluator& ev, std::size_t* edm_fired) {
    std::size_t fired = 0;
    double start = cpu_seconds();
    for (const auto& b : bodies) {
      mime::Message m;
      mime::Component comp;
      comp.kind = mime::ComponentKind::body;
      comp.name = "body";
      comp.text = b;
      m.components.push_back(std::move(comp));
      auto v = ev.evaluate(m, {"a@corp.test", {"b@ext.test"}});
      if (!v) return std::fprintf(stderr, "scan failed\n"), -1.0;
      for (const auto& p : v->policies) fired += p.name == "Customers";
    }
    if (edm_fired) *edm_fired = fired;
    return cpu_seconds() - start;
  };
  // The same mail and policies as files, for the whole path (run.sh times
  // `cordon scan` with each configuration).
  fs::create_directories(work / "mail");
  for (std::size_t i = 0; i < bodies.size(); ++i)
    std::ofstream(work / "mail" / ("m" + std::to_string(i) + ".eml"), std::ios::binary)
        << "From: a@corp.test\nTo: b@ext.test\nSubject: report " << i
        << "\nContent-Type: text/plain\n\n"
        << bodies[i];
  std::ofstream(work / "base.yaml") << base_policy;
  std::ofstream(work / "edm.yaml") << edm_yaml + base_policy + edm_policy;
  std::ofstream(work / "typed.yaml") << edm_yaml + base_policy + typed_policy;

  // The configurations in alternate passes, best of each: whatever else
  // the machine does then weighs on all alike. The first round warms the
  // caches and the indexes and is not counted.
  std::size_t fired = 0, typed_fired = 0;
  double base = 1e9, edm = 1e9, typed_edm = 1e9;
  {
    policy::Evaluator without_ev((*without)->policy_set), with_ev((*with)->policy_set),
        typed_ev((*typed)->policy_set);
    constexpr int kPasses = 15;
    for (int i = 0; i < kPasses; ++i) {
      double b = pass(without_ev, nullptr), e = pass(with_ev, &fired),
             y = pass(typed_ev, &typed_fired);
      if (b < 0 || e < 0 || y < 0) return 2;
      if (i > 0)
        base = std::min(base, b), edm = std::min(edm, e), typed_edm = std::min(typed_edm, y);
    }
  }
  double mb = static_cast<double>(total) / (1 << 20);
  // The EDM candidate scan alone (component figure), as the policy runs it:
  // words only near digits and e-mail hits, since min_fields 2 needs more
  // than the one text column.
  double finder = 1e9;
  {
    detect::edm::ScanOptions options;
    options.all_words = false;
    std::size_t hits = 0;
    for (int i = 0; i < 6; ++i) {
      double start = cpu_seconds();
      for (const auto& b : bodies) hits += detect::edm::find_hits(**index, b, options).size();
      if (i > 0) finder = std::min(finder, cpu_seconds() - start);
    }
    if (hits == 0) return std::fprintf(stderr, "the EDM scan found nothing\n"), 2;
  }
  std::printf("mail_mb %.0f\nscan_without_edm_mb_s %.0f\nscan_with_edm_mb_s %.0f\n", mb, mb / base,
              mb / edm);
  std::printf("edm_find_hits_mb_s %.0f\n", mb / finder);
  std::printf("edm_overhead_percent %.1f\nplanted_rows %zu\nedm_fired %zu\n",
              (edm / base - 1) * 100, planted_count, fired);
  std::printf(
      "scan_with_typed_edm_mb_s %.0f\ntyped_edm_overhead_percent %.1f\ntyped_edm_fired %zu\n",
      mb / typed_edm, (typed_edm / base - 1) * 100, typed_fired);
  return fired == planted_count && typed_fired == planted_count ? 0 : 1;
}
