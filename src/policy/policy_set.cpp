// Builds the compiled policy snapshot and turns detection-engine compile
// errors into configuration errors that point at the offending rule.
#include "policy/policy_set.hpp"

#include <algorithm>
#include <bit>

namespace cordon::policy {
namespace {

std::string valid_identifiers() {
  std::string out;
  for (const auto& name : detect::identifier_names()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

ConfigError compile_error(const detect::CompileError& e, const std::vector<Policy>& policies,
                          const std::vector<RuleRef>& refs, const std::string& file_name) {
  if (e.rule_index >= refs.size())
    return ConfigError{file_name, 0, 0,
                       "the detection engine cannot compile the policies: " + e.reason};
  const Policy& p = policies[refs[e.rule_index].policy];
  const PolicyRule& r = p.rules[refs[e.rule_index].rule];
  std::string message = "policy '" + p.name + "': ";
  switch (e.code) {
    case detect::CompileErrorCode::unknown_identifier:
      message += "unknown identifier '" + std::get<detect::IdentifierRule>(r.rule.what).identifier +
                 "'; valid identifiers: " + valid_identifiers();
      break;
    case detect::CompileErrorCode::bad_regex:
      message += "regex '" + std::get<detect::RegexRule>(r.rule.what).pattern +
                 "' does not compile: " + e.reason;
      break;
    case detect::CompileErrorCode::bad_keyword:
      message += "keyword rule does not compile: " + e.reason;
      break;
    case detect::CompileErrorCode::engine:
      message += r.display + " cannot be compiled: " + e.reason;
      break;
  }
  return ConfigError{file_name, r.mark.line, r.mark.col, message};
}

std::filesystem::path directory_of(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return abs.parent_path();
}

std::string column_list(const EdmProfile& p) {
  std::string out;
  for (const auto& c : p.columns) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

// Opens every profile's index and resolves each policy's edm conditions.
std::optional<ConfigError> load_edm(const EdmSettings& edm, const std::vector<Policy>& policies,
                                    const std::string& file_name,
                                    std::vector<PolicySet::EdmProfileRef>& profiles,
                                    std::vector<std::vector<PolicySet::EdmConditionRef>>& refs) {
  refs.assign(policies.size(), {});
  bool used = std::any_of(policies.begin(), policies.end(),
                          [](const Policy& p) { return !p.edm_conditions.empty(); });
  if (edm.profiles.empty() && !used) return std::nullopt;
  std::optional<util::SipKey> key;
  if (!edm.profiles.empty()) {
    auto loaded = detect::edm::load_key(edm.key_file);
    if (!loaded)
      return ConfigError{
          file_name, edm.key_mark.line, edm.key_mark.col,
          "edm.key_file: " + loaded.error().message + " (cordon edm index creates it)"};
    key = *loaded;
  }
  for (const auto& p : edm.profiles) {
    if (directory_of(p.index) == directory_of(edm.key_file))
      return ConfigError{file_name, p.mark.line, p.mark.col,
                         "edm profile '" + p.name + "': the index " + p.index +
                             " is in the directory of edm.key_file: keep the key apart (whoever "
                             "holds both can test guesses of every value)"};
    auto index = detect::edm::Index::open(p.index, *key, p.columns);
    if (!index)
      return ConfigError{file_name, p.mark.line, p.mark.col,
                         "edm profile '" + p.name + "': " + index.error().message};
    detect::edm::ScanOptions options;
    options.common_rows = p.common_rows;
    options.all_words = false;
    options.proximity = 0;
    profiles.push_back({p.name, std::move(*index), options});
  }
  for (std::size_t pi = 0; pi < policies.size(); ++pi)
    for (const auto& c : policies[pi].edm_conditions) {
      auto where = [&](std::string text) {
        return ConfigError{file_name, c.mark.line, c.mark.col,
                           "policy '" + policies[pi].name + "': " + std::move(text)};
      };
      const EdmProfile* profile = edm.find(c.profile);
      if (!profile) {
        std::string names;
        for (const auto& p : edm.profiles) names += (names.empty() ? "" : ", ") + p.name;
        return where(
            "unknown EDM profile '" + c.profile + "'" +
            (names.empty() ? std::string(" (edm.profiles is empty)") : "; profiles: " + names));
      }
      std::size_t at = static_cast<std::size_t>(profile - edm.profiles.data());
      PolicySet::EdmConditionRef ref{at, 0};
      std::size_t text_columns = 0;
      for (std::size_t ci = 0; ci < profile->columns.size(); ++ci) {
        bool wanted = c.columns.empty() || std::find(c.columns.begin(), c.columns.end(),
                                                     profile->columns[ci].name) != c.columns.end();
        if (!wanted) continue;
        ref.column_mask |= std::uint64_t{1} << ci;
        text_columns += profile->columns[ci].type == detect::edm::ColumnType::text;
      }
      for (const auto& name : c.columns)
        if (std::none_of(profile->columns.begin(), profile->columns.end(),
                         [&](const detect::edm::Column& col) { return col.name == name; }))
          return where("EDM profile '" + c.profile + "' has no column '" + name +
                       "'; columns: " + column_list(*profile));
      std::size_t chosen = static_cast<std::size_t>(std::popcount(ref.column_mask));
      if (c.min_fields > chosen)
        return where("edm.min_fields is " + std::to_string(c.min_fields) + " but only " +
                     std::to_string(chosen) + " columns can match");
      auto& options = profiles[at].options;
      options.proximity = std::max(options.proximity, c.proximity);
      // Word sequences need looking up everywhere only when text columns
      // alone can make a match; otherwise a digits or e-mail field is near.
      options.all_words = options.all_words || text_columns >= c.min_fields;
      refs[pi].push_back(ref);
    }
  return std::nullopt;
}

// Opens every IDM profile's index and resolves each policy's idm
// conditions.
std::optional<ConfigError> load_idm(const IdmSettings& idm, const std::vector<Policy>& policies,
                                    const std::string& file_name,
                                    std::vector<PolicySet::IdmProfileRef>& profiles,
                                    std::vector<std::vector<std::size_t>>& refs) {
  refs.assign(policies.size(), {});
  bool used = std::any_of(policies.begin(), policies.end(),
                          [](const Policy& p) { return !p.idm_conditions.empty(); });
  if (idm.profiles.empty() && !used) return std::nullopt;
  std::optional<util::SipKey> key;
  if (!idm.profiles.empty()) {
    auto loaded = detect::idm::load_key(idm.key_file);
    if (!loaded)
      return ConfigError{
          file_name, idm.key_mark.line, idm.key_mark.col,
          "idm.key_file: " + loaded.error().message + " (cordon idm index creates it)"};
    key = *loaded;
  }
  for (const auto& p : idm.profiles) {
    if (directory_of(p.index) == directory_of(idm.key_file))
      return ConfigError{file_name, p.mark.line, p.mark.col,
                         "idm profile '" + p.name + "': the index " + p.index +
                             " is in the directory of idm.key_file: keep the key apart (whoever "
                             "holds both can test guesses of the indexed text)"};
    auto index = detect::idm::Index::open(p.index, *key, p.name);
    if (!index)
      return ConfigError{file_name, p.mark.line, p.mark.col,
                         "idm profile '" + p.name + "': " + index.error().message};
    profiles.push_back({p.name, std::move(*index)});
  }
  for (std::size_t pi = 0; pi < policies.size(); ++pi)
    for (const auto& c : policies[pi].idm_conditions) {
      const IdmProfile* profile = idm.find(c.profile);
      if (!profile) {
        std::string names;
        for (const auto& p : idm.profiles) names += (names.empty() ? "" : ", ") + p.name;
        return ConfigError{
            file_name, c.mark.line, c.mark.col,
            "policy '" + policies[pi].name + "': unknown IDM profile '" + c.profile + "'" +
                (names.empty() ? std::string(" (idm.profiles is empty)") : "; profiles: " + names)};
      }
      refs[pi].push_back(static_cast<std::size_t>(profile - idm.profiles.data()));
    }
  return std::nullopt;
}

}  // namespace

Result<std::shared_ptr<const PolicySet>, ConfigError> PolicySet::build(
    std::vector<Policy> policies, const std::string& file_name,
    const std::optional<std::filesystem::path>& cache_dir, Unscannable unscannable,
    const EdmSettings& edm, const IdmSettings& idm) {
  std::shared_ptr<PolicySet> set(new PolicySet());
  std::vector<detect::Rule> rules;
  for (std::size_t p = 0; p < policies.size(); ++p)
    for (std::size_t r = 0; r < policies[p].rules.size(); ++r) {
      rules.push_back(policies[p].rules[r].rule);
      set->refs_.push_back({p, r});
    }
  if (!rules.empty()) {
    auto db = cache_dir ? detect::compile(rules, *cache_dir) : detect::compile(rules);
    if (!db) return fail(compile_error(db.error(), policies, set->refs_, file_name));
    set->database_ = std::move(*db);
  }
  if (auto e = load_edm(edm, policies, file_name, set->edm_profiles_, set->edm_refs_))
    return fail(std::move(*e));
  if (auto e = load_idm(idm, policies, file_name, set->idm_profiles_, set->idm_refs_))
    return fail(std::move(*e));
  set->policies_ = std::move(policies);
  set->unscannable_ = std::move(unscannable);
  return std::shared_ptr<const PolicySet>(std::move(set));
}

std::optional<detect::Scanner> PolicySet::make_scanner(detect::ScanFault fault) const {
  if (!database_) return std::nullopt;
  return detect::Scanner(database_, std::move(fault));
}

}  // namespace cordon::policy
