// compile(): turns a rule set into one Vectorscan database (plus the table
// that maps each expression back to its rule), optionally through the cache.
#include <algorithm>
#include <string>

#include "detect/database.hpp"
#include "detect/db_cache.hpp"
#include "detect/keyword_pattern.hpp"
#include "detect/text.hpp"

namespace cordon::detect {
namespace {

struct PatternSource {
  std::string expression;
  unsigned flags = 0;
  PatternInfo info;
};

// Keywords: case-insensitive with Unicode case folding; start offsets are
// needed for word-boundary checks and reports.
constexpr unsigned kKeywordFlags =
    HS_FLAG_CASELESS | HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SOM_LEFTMOST;
// Regexes: UTF-8 so '.' is one character; no UCP (it would make \w, \d and
// \s Unicode-wide, multiplying automaton size for little gain in mail DLP).
constexpr unsigned kRegexFlags = HS_FLAG_UTF8 | HS_FLAG_SOM_LEFTMOST;

using Sources = std::vector<PatternSource>;

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = text::ascii_lower(c);
  return out;
}

Status<CompileError> add_keyword(Sources& out, std::string_view keyword, PatternKind kind,
                                 std::uint32_t rule_index) {
  auto expr = keyword_expression(keyword);
  if (!expr)
    return fail(CompileError{CompileErrorCode::bad_keyword, rule_index,
                             expr.error() + ": \"" + std::string(keyword) + "\""});
  out.push_back({std::move(expr->expression),
                 kKeywordFlags,
                 {kind, rule_index, expr->check_left, expr->check_right}});
  return Ok{};
}

Status<CompileError> add_rule(Sources& out, std::vector<RuleInfo>& rules, const Rule& rule,
                              std::uint32_t index) {
  RuleInfo info;
  if (const auto* kw = std::get_if<KeywordRule>(&rule.what)) {
    if (kw->keywords.empty())
      return fail(CompileError{CompileErrorCode::bad_keyword, index, "keyword list is empty"});
    for (const auto& keyword : kw->keywords)
      if (auto st = add_keyword(out, keyword, PatternKind::keyword, index); !st) return st;
  } else if (const auto* re = std::get_if<RegexRule>(&rule.what)) {
    if (re->pattern.empty())
      return fail(CompileError{CompileErrorCode::bad_regex, index, "empty regular expression"});
    out.push_back({re->pattern, kRegexFlags, {PatternKind::regex, index, false, false}});
  } else {
    const auto& id = std::get<IdentifierRule>(rule.what);
    info.identifier = find_identifier(id.identifier);
    if (!info.identifier)
      return fail(CompileError{CompileErrorCode::unknown_identifier, index,
                               "unknown data identifier \"" + id.identifier + "\""});
    info.confidence = id.confidence;
    info.proximity = id.proximity;
    for (const auto expression : info.identifier->expressions)
      out.push_back({std::string(expression),
                     (info.identifier->vectorscan_start ? HS_FLAG_SOM_LEFTMOST : 0u) |
                         info.identifier->extra_flags,
                     {PatternKind::identifier, index, false, false}});
    // Low confidence never consults keywords: do not make Vectorscan look.
    if (id.confidence != Confidence::low) {
      std::vector<std::string> seen;
      auto add_support = [&](std::string_view keyword) -> Status<CompileError> {
        auto key = lower_ascii(keyword);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) return Ok{};
        seen.push_back(std::move(key));
        return add_keyword(out, keyword, PatternKind::support, index);
      };
      for (const auto keyword : info.identifier->support_keywords)
        if (auto st = add_support(keyword); !st) return st;
      for (const auto& keyword : id.support_keywords)
        if (auto st = add_support(keyword); !st) return st;
    }
  }
  rules.push_back(info);
  return Ok{};
}

CompileError translate(const hs_compile_error_t& error, const Sources& sources) {
  if (error.expression < 0 || static_cast<std::size_t>(error.expression) >= sources.size())
    return {CompileErrorCode::engine, 0, error.message};
  const PatternInfo& info = sources[static_cast<std::size_t>(error.expression)].info;
  switch (info.kind) {
    case PatternKind::regex:
      return {CompileErrorCode::bad_regex, info.rule_index, error.message};
    case PatternKind::keyword:
    case PatternKind::support:
      return {CompileErrorCode::bad_keyword, info.rule_index, error.message};
    case PatternKind::identifier:
      break;
  }
  return {CompileErrorCode::engine, info.rule_index, error.message};
}

Result<std::shared_ptr<const Database>, CompileError> compile_impl(
    const std::vector<Rule>& rules, const std::filesystem::path* cache_dir) {
  auto db = std::make_shared<Database>();
  Sources sources;
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (auto st = add_rule(sources, db->rules, rules[i], static_cast<std::uint32_t>(i)); !st)
      return fail(st.error());
  if (sources.empty()) return std::shared_ptr<const Database>(std::move(db));

  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    expressions.push_back(sources[i].expression.c_str());
    flags.push_back(sources[i].flags);
    ids.push_back(static_cast<unsigned>(i));
    db->patterns.push_back(sources[i].info);
  }
  db->info.pattern_count = sources.size();

  if (cache_dir) {
    db->info.cache_file = *cache_dir / (cache::key(expressions, flags, ids) + ".hsdb");
    db->hs = cache::load(db->info.cache_file);
    db->info.loaded_from_cache = db->hs != nullptr;
  }
  if (!db->hs) {
    hs_database_t* raw = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr, &raw,
                         &error) != HS_SUCCESS) {
      CompileError translated =
          error ? translate(*error, sources)
                : CompileError{CompileErrorCode::engine, 0, "Vectorscan compile failed"};
      hs_free_compile_error(error);
      return fail(std::move(translated));
    }
    db->hs.reset(raw);
    if (cache_dir) (void)cache::store(db->info.cache_file, *db->hs);
  }
  std::size_t bytes = 0;
  if (hs_database_size(db->hs.get(), &bytes) == HS_SUCCESS) db->info.bytes = bytes;
  return std::shared_ptr<const Database>(std::move(db));
}

}  // namespace

Result<std::shared_ptr<const Database>, CompileError> compile(const std::vector<Rule>& rules) {
  return compile_impl(rules, nullptr);
}

Result<std::shared_ptr<const Database>, CompileError> compile(
    const std::vector<Rule>& rules, const std::filesystem::path& cache_dir) {
  return compile_impl(rules, &cache_dir);
}

DatabaseInfo describe(const Database& db) {
  return db.info;
}

const std::vector<std::string>& identifier_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& spec : identifier_specs()) out.emplace_back(spec.name);
    return out;
  }();
  return names;
}

}  // namespace cordon::detect
