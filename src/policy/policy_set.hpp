// A compiled policy snapshot: the configured policies plus ONE detection
// database holding every rule of every policy, with each database rule
// mapped back to its policy and rule. Immutable; shared by all sessions
// and threads behind shared_ptr<const PolicySet>; a reload builds a new one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detect/detect.hpp"
#include "detect/idm.hpp"
#include "policy/model.hpp"

namespace cordon::policy {

struct RuleRef {
  std::size_t policy = 0;  // index into policies()
  std::size_t rule = 0;    // index into policies()[policy].rules
};

class PolicySet {
 public:
  // Compiles all rules; an error names the policy and points at the rule's
  // YAML position in `file_name`. With `cache_dir`, the compiled database is
  // cached there (detect::compile), so an unchanged set loads instead.
  static Result<std::shared_ptr<const PolicySet>, ConfigError> build(
      std::vector<Policy> policies, const std::string& file_name,
      const std::optional<std::filesystem::path>& cache_dir = std::nullopt,
      Unscannable unscannable = {}, const EdmSettings& edm = {}, const IdmSettings& idm = {});

  const std::vector<Policy>& policies() const { return policies_; }
  // What content that could not be read means for the verdict.
  const Unscannable& unscannable() const { return unscannable_; }
  // Null when there are no rules at all (no policies).
  const std::shared_ptr<const detect::Database>& database() const { return database_; }
  const RuleRef& rule_ref(std::size_t database_rule) const { return refs_.at(database_rule); }
  std::size_t rule_count() const { return refs_.size(); }

  // The EDM profiles, each with its index open (every configured profile,
  // used or not, so that check-config proves each index loads).
  struct EdmProfileRef {
    std::string name;
    std::shared_ptr<const detect::edm::Index> index;
    detect::edm::ScanOptions options;  // all_words and proximity: what its conditions need
  };
  // One per EdmCondition of a policy: its profile and columns resolved.
  struct EdmConditionRef {
    std::size_t profile = 0;  // index into edm_profiles()
    std::uint64_t column_mask = 0;
  };
  const std::vector<EdmProfileRef>& edm_profiles() const { return edm_profiles_; }
  const EdmConditionRef& edm_condition(std::size_t policy, std::size_t condition) const {
    return edm_refs_.at(policy).at(condition);
  }

  // The IDM profiles, each with its index open (every configured one).
  struct IdmProfileRef {
    std::string name;
    std::shared_ptr<const detect::idm::Index> index;
  };
  const std::vector<IdmProfileRef>& idm_profiles() const { return idm_profiles_; }
  // The profile (index into idm_profiles()) of an IdmCondition of a policy.
  std::size_t idm_condition(std::size_t policy, std::size_t condition) const {
    return idm_refs_.at(policy).at(condition);
  }

  // A scanner for the calling thread; empty when there is no database.
  // `fault`: test-only fault injection (detect::ScanFault).
  std::optional<detect::Scanner> make_scanner(detect::ScanFault fault = {}) const;

 private:
  PolicySet() = default;
  std::vector<Policy> policies_;
  std::shared_ptr<const detect::Database> database_;
  std::vector<RuleRef> refs_;
  Unscannable unscannable_;
  std::vector<EdmProfileRef> edm_profiles_;
  std::vector<std::vector<EdmConditionRef>> edm_refs_;  // [policy][condition]
  std::vector<IdmProfileRef> idm_profiles_;
  std::vector<std::vector<std::size_t>> idm_refs_;  // [policy][condition]
};

}  // namespace cordon::policy
