// Builds the compiled policy snapshot and turns detection-engine compile
// errors into configuration errors that point at the offending rule.
#include "policy/policy_set.hpp"

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

}  // namespace

Result<std::shared_ptr<const PolicySet>, ConfigError> PolicySet::build(
    std::vector<Policy> policies, const std::string& file_name,
    const std::optional<std::filesystem::path>& cache_dir, Unscannable unscannable) {
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
  set->policies_ = std::move(policies);
  set->unscannable_ = std::move(unscannable);
  return std::shared_ptr<const PolicySet>(std::move(set));
}

std::optional<detect::Scanner> PolicySet::make_scanner(detect::ScanFault fault) const {
  if (!database_) return std::nullopt;
  return detect::Scanner(database_, std::move(fault));
}

}  // namespace cordon::policy
