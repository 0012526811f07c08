// compile(): turns a rule set into one Vectorscan database (plus the table
// that maps each expression back to its rule), optionally through the cache.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "detect/database.hpp"
#include "detect/detail/db_cache.hpp"
#include "detect/detail/keyword_pattern.hpp"
#include "detect/detail/text.hpp"

namespace cordon::detect {
namespace {

struct PatternSource {
  std::string expression;
  unsigned flags = 0;
  PatternInfo info;
};

// Caseless ASCII literals, no UTF-8 or Unicode mode and no start-of-match
// tracking (both make Vectorscan slower): word boundaries are checked by
// the scanner, and the start offset is the end less the literal's length.
constexpr unsigned kLiteralFlags = HS_FLAG_CASELESS;

// Every byte that is not an ASCII letter or digit escaped: the expression
// matches exactly the bytes of `literal`.
std::string literal_expression(std::string_view literal) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(literal.size() * 2);
  for (const char c : literal) {
    if (text::is_ascii_alnum(c)) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += "\\x";
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

// Keywords: case-insensitive with Unicode case folding; start offsets are
// needed for word-boundary checks and reports.
constexpr unsigned kKeywordFlags =
    HS_FLAG_CASELESS | HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SOM_LEFTMOST;
// Regexes: UTF-8 so '.' is one character; no UCP (it would make \w, \d and
// \s Unicode-wide, multiplying automaton size for little gain in mail DLP).
constexpr unsigned kRegexFlags = HS_FLAG_UTF8 | HS_FLAG_SOM_LEFTMOST;

using Sources = std::vector<PatternSource>;

// Where add_rule() puts each kind of pattern.
struct Units {
  Sources main;        // regexes, literal-led identifiers, keywords
  Sources class_only;  // identifiers made of character classes only
  Sources folded;      // spellings of ASCII keywords with K (U+212A) or long s (U+017F)
  Sources support;     // supporting keywords of identifier rules
  Sources starts;      // bounded identifier expressions with SOM (PatternInfo::start_id)
};

// Widest match of a bounded identifier expression whose start is found
// after the scan (PatternInfo::start_width); wider or unbounded ones keep
// Vectorscan's start-of-match tracking.
constexpr unsigned kMaxStartWidth = 256;

// The expression's maximum match width, when Vectorscan says it is bounded
// and at most kMaxStartWidth; 0 otherwise.
std::uint32_t bounded_width(const std::string& expression, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_expression_info(expression.c_str(), flags, &info, &error) != HS_SUCCESS) {
    hs_free_compile_error(error);
    return 0;
  }
  const unsigned width = info->max_width;
  std::free(info);
  return width == 0 || width > kMaxStartWidth ? 0 : width;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = text::ascii_lower(c);
  return out;
}

// `units` null: a supporting keyword (always an expression, in `support`).
Status<CompileError> add_keyword(Sources& out, std::string_view keyword, PatternKind kind,
                                 std::uint32_t rule_index, Units* units = nullptr) {
  auto expr = keyword_expression(keyword);
  if (!expr)
    return fail(CompileError{CompileErrorCode::bad_keyword, rule_index,
                             expr.error() + ": \"" + std::string(keyword) + "\""});
  if (units && !expr->literals.empty()) {
    for (std::size_t i = 0; i < expr->literals.size(); ++i) {
      const auto length = static_cast<std::uint32_t>(expr->literals[i].size());
      // Written as an expression, not compiled with hs_compile_lit_multi:
      // in one database with the regexes, Vectorscan's literal matcher
      // serves both in one pass (measured ~1.6x faster than two units).
      (i == 0 ? units->main : units->folded)
          .push_back({literal_expression(expr->literals[i]),
                      kLiteralFlags,
                      {kind, rule_index, expr->check_left, expr->check_right, length}});
    }
    return Ok{};
  }
  out.push_back({std::move(expr->expression),
                 kKeywordFlags,
                 {kind, rule_index, expr->check_left, expr->check_right}});
  return Ok{};
}

Status<CompileError> add_rule(Units& units, std::vector<RuleInfo>& rules, const Rule& rule,
                              std::uint32_t index) {
  Sources& out = units.main;
  Sources& class_only = units.class_only;
  Sources& support = units.support;
  RuleInfo info;
  if (const auto* kw = std::get_if<KeywordRule>(&rule.what)) {
    if (kw->keywords.empty())
      return fail(CompileError{CompileErrorCode::bad_keyword, index, "keyword list is empty"});
    for (const auto& keyword : kw->keywords)
      if (auto st = add_keyword(out, keyword, PatternKind::keyword, index, &units); !st) return st;
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
    for (const auto expression : info.identifier->expressions) {
      PatternSource source{std::string(expression),
                           info.identifier->extra_flags,
                           {PatternKind::identifier, index, false, false}};
      if (info.identifier->vectorscan_start) {
        if (const auto width = bounded_width(source.expression, source.flags)) {
          source.info.start_width = width;
          source.info.start_id = static_cast<std::uint32_t>(units.starts.size());
          units.starts.push_back(
              {source.expression, source.flags | HS_FLAG_SOM_LEFTMOST, source.info});
        } else {
          source.flags |= HS_FLAG_SOM_LEFTMOST;
        }
      }
      (info.identifier->class_only ? class_only : out).push_back(std::move(source));
    }
    // Low confidence never consults keywords: do not make Vectorscan look.
    if (id.confidence != Confidence::low) {
      std::vector<std::string> seen;
      auto add_support = [&](std::string_view keyword) -> Status<CompileError> {
        auto key = lower_ascii(keyword);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) return Ok{};
        seen.push_back(std::move(key));
        return add_keyword(support, keyword, PatternKind::support, index);
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

struct Compiled {
  HsDatabasePtr db;
  bool from_cache = false;
  std::filesystem::path cache_file;
};

// Expression ids start at `first_id`, so ids are unique across units.
Result<Compiled, CompileError> compile_sources(const Sources& sources, unsigned first_id,
                                               const std::filesystem::path* cache_dir) {
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    expressions.push_back(sources[i].expression.c_str());
    flags.push_back(sources[i].flags);
    ids.push_back(first_id + static_cast<unsigned>(i));
  }
  Compiled out;
  if (cache_dir) {
    out.cache_file = *cache_dir / (cache::key(expressions, flags, ids) + ".hsdb");
    out.db = cache::load(out.cache_file);
    out.from_cache = out.db != nullptr;
    if (out.db) return out;
  }
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
  out.db.reset(raw);
  if (cache_dir) (void)cache::store(out.cache_file, *out.db);
  return out;
}

std::size_t database_bytes(const hs_database_t* db) {
  std::size_t bytes = 0;
  return db && hs_database_size(db, &bytes) == HS_SUCCESS ? bytes : 0;
}

Result<std::shared_ptr<const Database>, CompileError> compile_impl(
    const std::vector<Rule>& rules, const std::filesystem::path* cache_dir) {
  auto db = std::make_shared<Database>();
  Units units;
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (auto st = add_rule(units, db->rules, rules[i], static_cast<std::uint32_t>(i)); !st)
      return fail(st.error());
  const Sources& support = units.support;
  bool all_cached = true;
  for (const Sources* unit : {&units.main, &units.class_only, &units.folded}) {
    if (unit->empty()) continue;
    auto compiled = compile_sources(*unit, static_cast<unsigned>(db->patterns.size()), cache_dir);
    if (!compiled) return fail(compiled.error());
    if (db->units.empty()) db->info.cache_file = compiled->cache_file;
    all_cached = all_cached && compiled->from_cache;
    db->info.bytes += database_bytes(compiled->db.get());
    if (unit == &units.folded)
      db->folded_hs = std::move(compiled->db);
    else
      db->units.push_back(std::move(compiled->db));
    for (const auto& s : *unit) db->patterns.push_back(s.info);
  }
  if (!support.empty()) {
    auto compiled = compile_sources(support, 0, cache_dir);
    if (!compiled) return fail(compiled.error());
    all_cached = all_cached && compiled->from_cache;
    db->info.bytes += database_bytes(compiled->db.get());
    db->support_hs = std::move(compiled->db);
    for (const auto& s : support) db->support_patterns.push_back(s.info);
  }
  if (!units.starts.empty()) {
    auto compiled = compile_sources(units.starts, 0, cache_dir);
    if (!compiled) return fail(compiled.error());
    all_cached = all_cached && compiled->from_cache;
    db->info.bytes += database_bytes(compiled->db.get());
    db->starts_hs = std::move(compiled->db);
  }
  // Keywords count one each, as before they became literals: the folded
  // spellings are not patterns of their own.
  db->info.pattern_count = db->patterns.size() - units.folded.size() + db->support_patterns.size();
  db->info.loaded_from_cache = cache_dir && !db->units.empty() && all_cached;
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
