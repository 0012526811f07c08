// Helpers shared by the detection engine's tests: compile a rule set or
// fail the test, and scan a text down to the matched substrings.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "detect/detect.hpp"

namespace cordon::detect::testing {

inline std::shared_ptr<const Database> compile_ok(const std::vector<Rule>& rules) {
  auto db = compile(rules);
  if (!db) {
    ADD_FAILURE() << "compile failed at rule " << db.error().rule_index << ": "
                  << db.error().reason;
    return nullptr;
  }
  return *db;
}

inline Rule identifier(std::string name, Confidence confidence = Confidence::medium,
                       std::vector<std::string> support = {}, std::size_t proximity = 300) {
  return Rule{IdentifierRule{std::move(name), confidence, proximity, std::move(support)}};
}

inline Rule keywords(std::vector<std::string> words) {
  return Rule{KeywordRule{std::move(words)}};
}

inline Rule regex(std::string pattern) {
  return Rule{RegexRule{std::move(pattern)}};
}

// The findings of a scan that must succeed (an error fails the test).
inline std::vector<RuleFindings> scan_ok(Scanner& scanner, std::string_view text) {
  auto scanned = scanner.scan(text);
  if (!scanned) {
    ADD_FAILURE() << "scan failed: " << scanned.error().detail;
    return {};
  }
  return std::move(scanned).value();
}

// The findings of `rule_index` in `text`, as the substrings they cover.
inline std::vector<std::string> matches(Scanner& scanner, std::string_view text,
                                        std::size_t rule_index = 0) {
  std::vector<std::string> out;
  for (const auto& rf : scan_ok(scanner, text))
    if (rf.rule_index == rule_index)
      for (const auto& f : rf.findings) out.emplace_back(text.substr(f.begin, f.end - f.begin));
  return out;
}

// Scans `text` with a one-rule database.
inline std::vector<std::string> matches(const Rule& rule, std::string_view text) {
  auto db = compile_ok({rule});
  if (!db) return {};
  Scanner scanner(db);
  return matches(scanner, text);
}

}  // namespace cordon::detect::testing
