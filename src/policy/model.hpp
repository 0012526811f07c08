// The policies as configured: rules, where they look, exceptions and
// responses. Plain values read by the configuration loader (config/) and
// compiled by PolicySet (policy_set.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/common.hpp"
#include "detect/detect.hpp"
#include "detect/edm.hpp"
#include "extract/extract.hpp"

namespace cordon::policy {

using config::ConfigError;
using config::SourceMark;

enum class Severity { info, low, medium, high };
std::string_view to_string(Severity severity);

// Where a policy's rules look. Bit flags.
enum ComponentMask : unsigned {
  kEnvelope = 1u << 0,
  kSubject = 1u << 1,
  kHeaders = 1u << 2,
  kBody = 1u << 3,
  kAttachments = 1u << 4,
  kAllComponents = kEnvelope | kSubject | kHeaders | kBody | kAttachments,
};

// How min_count counts unique matched values: within each component
// separately (default), or across the whole message.
enum class CountScope { per_component, per_message };

struct PolicyRule {
  detect::Rule rule;
  std::size_t min_count = 1;  // unique values (by value hash) needed for the rule to hold
  std::string display;        // "identifier:credit_card", "keywords", "regex:ACME-[0-9]{6}"
  SourceMark mark;
};

enum class MatchMode { any, all };

struct BlockResponse {
  std::string text;  // sender-facing reply text
};
struct ModifyResponse {
  std::string subject_prefix;
  std::vector<std::string> add_headers;  // "Name: value"
};
struct RedirectResponse {
  std::string address;
};
// Keep the message for review: the milter puts it in the MTA's hold queue
// (quarantine); roles without a hold queue (prevent) refuse it as a block.
struct HoldResponse {
  std::string reason;  // for the reviewer, beside the incident id
};
using Response = std::variant<BlockResponse, ModifyResponse, RedirectResponse, HoldResponse>;

// Raises a fired policy's severity when its total unique match count (over
// all rules and components) reaches min_count.
struct SeverityTier {
  std::size_t min_count = 0;
  Severity severity = Severity::high;
};

// What content cordon could not read (an unscannable mime::Problem) means
// for the verdict, for the whole policy set (`on_unscannable:`).
enum class UnscannableAction {
  block,  // fire kUnscannablePolicy, which blocks with `reply`
  flag,   // fire kUnscannablePolicy without a response: an incident, the message goes on
  pass,   // only a problem of the message
};
std::string_view to_string(UnscannableAction action);

struct Unscannable {
  UnscannableAction action = UnscannableAction::block;
  Severity severity = Severity::high;
  // Sender-facing block text; "{what}" is replaced by what could not be
  // read ("report.zip: encrypted, part 1.2: nested too deeply").
  std::string reply =
      "Your message was not sent: part of it could not be inspected ({what}). Send it without "
      "encryption and within the size limits, or ask your mail administrator.";
};

// `edm:` of the configuration: the secret of the keyed hashes and the
// profiles (one indexed table each), loaded by PolicySet::build.
struct EdmProfile {
  std::string name;
  std::string index;  // path of the index file (cordon edm index writes it)
  std::vector<detect::edm::Column> columns;
  std::size_t common_rows = 20;  // a value in more rows is common (detect::edm::ScanOptions)
  SourceMark mark;
};
struct EdmSettings {
  std::string key_file;
  SourceMark key_mark;
  std::vector<EdmProfile> profiles;
  const EdmProfile* find(std::string_view name) const;
};

// `- edm: {profile, min_fields, columns, proximity}`: holds when
// `min_fields` fields (of `columns`, default all) of ONE row of the
// profile's table appear within `proximity` bytes of each other in one
// component. Counts as one rule for any/all.
struct EdmCondition {
  std::string profile;
  std::size_t min_fields = 2;
  std::vector<std::string> columns;  // empty: every column of the profile
  std::size_t proximity = 300;
  SourceMark mark;
};

// `idm:` of the configuration: the secret of the keyed hashes (a key file
// as for EDM; it may be the same file) and the profiles, one indexed
// document set each (detect::idm), loaded by PolicySet::build.
struct IdmProfile {
  std::string name;
  std::string index;                     // path of the index (cordon idm index writes it)
  std::vector<std::string> boilerplate;  // files whose fingerprints never count
  SourceMark mark;
};
struct IdmSettings {
  std::string key_file;
  SourceMark key_mark;
  std::vector<IdmProfile> profiles;
  const IdmProfile* find(std::string_view name) const;
};

// `- idm: {profile, min_percent}`: holds when at least min_percent % of
// the fingerprints of one indexed document appear in the components the
// policy looks at, taken together. Counts as one rule for any/all.
struct IdmCondition {
  std::string profile;
  unsigned min_percent = 50;
  SourceMark mark;
};

struct Policy {
  std::string name;
  Severity severity = Severity::medium;
  std::vector<SeverityTier> severity_tiers;  // sorted by min_count ascending
  unsigned components = kAllComponents;      // ComponentMask bits
  MatchMode mode = MatchMode::any;
  std::vector<PolicyRule> rules;
  // `- attachment: {types, names, min_size, encrypted}` items of the match
  // list: each counts as one rule that holds when an attachment or an
  // extracted file meets it.
  std::vector<extract::FileCondition> attachment_conditions;
  std::vector<EdmCondition> edm_conditions;
  std::vector<IdmCondition> idm_conditions;
  CountScope count_scope = CountScope::per_component;
  // A policy does not fire for a sender matching except_senders, nor when
  // EVERY recipient matches except_recipients (masks as in L7 filters).
  std::vector<std::string> except_senders;
  std::vector<std::string> except_recipients;
  std::vector<Response> responses;  // in the order written
  SourceMark mark;
};

}  // namespace cordon::policy
