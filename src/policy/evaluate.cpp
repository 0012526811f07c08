// Policy evaluation (see evaluate.hpp for the semantics): scan each
// component once, group findings by policy, rule and component, count
// unique values, apply min_count, any/all, exceptions, and merge responses.
#include "policy/evaluate.hpp"

#include <algorithm>
#include <unordered_set>

#include "policy/address_mask.hpp"

namespace cordon::policy {
namespace {

unsigned component_bit(mime::ComponentKind kind) {
  switch (kind) {
    case mime::ComponentKind::envelope:
      return kEnvelope;
    case mime::ComponentKind::subject:
      return kSubject;
    case mime::ComponentKind::header:
      return kHeaders;
    case mime::ComponentKind::body:
      return kBody;
    case mime::ComponentKind::attachment:
      return kAttachments;
  }
  return 0;
}

// How much of the message an incident keeps to preview (masked).
constexpr std::size_t kPreviewHeaderBytes = 8 * 1024;
constexpr std::size_t kPreviewBodyBytes = 2 * 1024;

// Unique values of one rule in one component, in first-seen order.
struct ComponentHits {
  std::size_t component = 0;  // index into the scanned component list
  std::vector<std::uint64_t> hashes;
  std::vector<std::string> samples;   // masked, one per unique value, capped
  std::vector<std::string> contexts;  // each sample in its text, masked (detect::masked_context)

  void add(const detect::Finding& f, std::string_view text,
           std::span<const detect::RuleFindings> all) {
    if (std::find(hashes.begin(), hashes.end(), f.value_hash) != hashes.end()) return;
    hashes.push_back(f.value_hash);
    if (samples.size() < kMaxSamples) {
      samples.push_back(f.masked);
      contexts.push_back(detect::masked_context(text, f, all));
    }
  }
};

struct RuleHits {
  std::vector<ComponentHits> per_component;  // in component order

  ComponentHits& in(std::size_t component) {
    if (per_component.empty() || per_component.back().component != component)
      per_component.push_back(ComponentHits{component, {}, {}, {}});
    return per_component.back();
  }
};

bool matches_any(const std::vector<std::string>& masks, const std::string& normalized) {
  return std::any_of(masks.begin(), masks.end(),
                     [&](const std::string& m) { return AddressMask(m).matches(normalized); });
}

bool excepted(const Policy& p, const Envelope& env) {
  if (!p.except_senders.empty() && matches_any(p.except_senders, normalize_address(env.sender)))
    return true;
  if (p.except_recipients.empty() || env.recipients.empty()) return false;
  return std::all_of(env.recipients.begin(), env.recipients.end(), [&](const std::string& r) {
    return matches_any(p.except_recipients, normalize_address(r));
  });
}

std::string envelope_text(const Envelope& env) {
  std::string text = "MAIL FROM:<" + env.sender + ">\n";
  for (const auto& r : env.recipients) text += "RCPT TO:<" + r + ">\n";
  return text;
}

// The matches a satisfied rule reports, or nothing when it does not hold.
std::vector<RuleMatch> rule_matches(const PolicyRule& rule, CountScope scope, const RuleHits& hits,
                                    const std::vector<const mime::Component*>& components) {
  std::vector<RuleMatch> out;
  auto to_match = [&](const ComponentHits& h) {
    return RuleMatch{rule.display, components[h.component]->name, h.hashes.size(), h.samples,
                     h.contexts};
  };
  if (scope == CountScope::per_component) {
    for (const auto& h : hits.per_component)
      if (h.hashes.size() >= rule.min_count) out.push_back(to_match(h));
    return out;
  }
  std::unordered_set<std::uint64_t> unique;
  for (const auto& h : hits.per_component) unique.insert(h.hashes.begin(), h.hashes.end());
  if (unique.size() < rule.min_count) return out;
  for (const auto& h : hits.per_component) out.push_back(to_match(h));
  return out;
}

// One match per file that meets the condition (at most kMaxSamples).
std::vector<RuleMatch> condition_matches(const extract::FileCondition& condition,
                                         const extract::Expansion* expansion) {
  std::vector<RuleMatch> out;
  if (!expansion) return out;
  for (const auto& file : expansion->files) {
    if (!condition.matches(file)) continue;
    std::string sample = file.type + ", " + std::to_string(file.size) + " bytes";
    if (file.encrypted) sample += ", encrypted";
    out.push_back(RuleMatch{condition.describe(), file.component, 1, {sample}});
    if (out.size() == kMaxSamples) break;
  }
  return out;
}

// "name J*********, ssn 12*********": the matched text of each field, masked.
std::string edm_sample(const PolicySet::EdmProfileRef& profile, const detect::edm::RowMatch& row,
                       std::string_view text) {
  std::string out;
  for (const auto& f : row.fields) {
    if (!out.empty()) out += ", ";
    const auto& columns = profile.index->columns();
    out += f.column < columns.size() ? columns[f.column].name : std::string("?");
    out += ' ';
    out += detect::mask(text.substr(f.begin, f.end - f.begin));
  }
  return out;
}

// matches[policy][condition]: one RuleMatch per component where the
// condition holds. Each profile's index is searched once per component,
// and only in components that one of its conditions looks at.
std::vector<std::vector<std::vector<RuleMatch>>> edm_matches(
    const PolicySet& set, const std::vector<bool>& active,
    const std::vector<const mime::Component*>& components) {
  const auto& policies = set.policies();
  std::vector<std::vector<std::vector<RuleMatch>>> out(policies.size());
  const auto& profiles = set.edm_profiles();
  std::vector<unsigned> wanted(profiles.size(), 0);
  for (std::size_t pi = 0; pi < policies.size(); ++pi) {
    out[pi].resize(policies[pi].edm_conditions.size());
    if (!active[pi]) continue;
    for (std::size_t c = 0; c < policies[pi].edm_conditions.size(); ++c)
      wanted[set.edm_condition(pi, c).profile] |= policies[pi].components;
  }
  for (std::size_t k = 0; k < profiles.size(); ++k) {
    if (!wanted[k]) continue;
    for (const auto* component : components) {
      unsigned bit = component_bit(component->kind);
      if (!(wanted[k] & bit) || component->text.empty()) continue;
      auto hits = detect::edm::find_hits(*profiles[k].index, component->text, profiles[k].options);
      if (hits.size() < 1) continue;
      for (std::size_t pi = 0; pi < policies.size(); ++pi) {
        const Policy& p = policies[pi];
        if (!active[pi] || !(p.components & bit)) continue;
        for (std::size_t c = 0; c < p.edm_conditions.size(); ++c) {
          const auto& ref = set.edm_condition(pi, c);
          if (ref.profile != k) continue;
          const auto& cond = p.edm_conditions[c];
          auto rows =
              detect::edm::match_rows(hits, cond.min_fields, ref.column_mask, cond.proximity);
          if (rows.empty()) continue;
          RuleMatch m{"edm:" + cond.profile, component->name, rows.size(), {}};
          for (std::size_t r = 0; r < rows.size() && r < kMaxSamples; ++r)
            m.samples.push_back(edm_sample(profiles[k], rows[r], component->text));
          out[pi][c].push_back(std::move(m));
        }
      }
    }
  }
  return out;
}

// matches[policy][condition]: at most one RuleMatch, for the documents of
// which enough fingerprints appear in the components the policy looks at
// (together); its component is where most of the best document was found,
// its samples "board-paper.pdf 62%", the highest share first. Each
// profile's fingerprints are computed once per component.
std::vector<std::vector<std::vector<RuleMatch>>> idm_matches(
    const PolicySet& set, const std::vector<bool>& active,
    const std::vector<const mime::Component*>& components) {
  const auto& policies = set.policies();
  std::vector<std::vector<std::vector<RuleMatch>>> out(policies.size());
  const auto& profiles = set.idm_profiles();
  std::vector<unsigned> wanted(profiles.size(), 0);
  for (std::size_t pi = 0; pi < policies.size(); ++pi) {
    out[pi].resize(policies[pi].idm_conditions.size());
    if (!active[pi]) continue;
    for (std::size_t c = 0; c < policies[pi].idm_conditions.size(); ++c)
      wanted[set.idm_condition(pi, c)] |= policies[pi].components;
  }
  for (std::size_t k = 0; k < profiles.size(); ++k) {
    if (!wanted[k]) continue;
    const auto& index = *profiles[k].index;
    std::vector<std::vector<detect::idm::Hit>> hits(components.size());
    bool any = false;
    for (std::size_t ci = 0; ci < components.size(); ++ci) {
      const auto* component = components[ci];
      if (!(wanted[k] & component_bit(component->kind)) || component->text.empty()) continue;
      hits[ci] = detect::idm::find_hits(index, component->text);
      any = any || !hits[ci].empty();
    }
    if (!any) continue;
    for (std::size_t pi = 0; pi < policies.size(); ++pi) {
      const Policy& p = policies[pi];
      if (!active[pi]) continue;
      for (std::size_t c = 0; c < p.idm_conditions.size(); ++c) {
        if (set.idm_condition(pi, c) != k) continue;
        std::vector<detect::idm::Hit> all;
        for (std::size_t ci = 0; ci < components.size(); ++ci)
          if (p.components & component_bit(components[ci]->kind))
            all.insert(all.end(), hits[ci].begin(), hits[ci].end());
        auto docs =
            detect::idm::match_documents(index, std::move(all), p.idm_conditions[c].min_percent);
        if (docs.empty()) continue;
        std::size_t best = 0, best_count = 0;
        for (std::size_t ci = 0; ci < components.size(); ++ci) {
          if (!(p.components & component_bit(components[ci]->kind))) continue;
          std::size_t n = static_cast<std::size_t>(
              std::count_if(hits[ci].begin(), hits[ci].end(),
                            [&](const detect::idm::Hit& h) { return h.doc == docs[0].doc; }));
          if (n > best_count) best = ci, best_count = n;
        }
        RuleMatch m{"idm:" + p.idm_conditions[c].profile, components[best]->name, docs.size(), {}};
        for (std::size_t d = 0; d < docs.size() && d < kMaxSamples; ++d)
          m.samples.push_back(index.name(docs[d].doc) + " " + std::to_string(docs[d].percent) +
                              "%");
        out[pi][c].push_back(std::move(m));
      }
    }
  }
  return out;
}

void add_limit_violation(const extract::Expansion* expansion, Verdict& v) {
  if (!expansion || expansion->limits.empty() ||
      expansion->on_limit != extract::LimitAction::violation)
    return;
  FiredPolicy fired{std::string(kLimitPolicy), Severity::high, {}};
  for (const auto& hit : expansion->limits)
    fired.matches.push_back(RuleMatch{"limit:" + std::string(extract::to_string(hit.kind)),
                                      "limit",
                                      1,
                                      {hit.where + ": " + hit.detail}});
  v.policies.push_back(std::move(fired));
  v.block_texts.emplace_back(kLimitBlockText);
  v.action = Action::block;
}

bool acted_on(const mime::Problem& p) {
  // Extraction limits have their own switch (attachments.on_limit).
  return mime::is_unscannable(p.kind) && p.kind != mime::ProblemKind::extraction_limit;
}

// "report.zip: encrypted" for the sender; component prefixes are noise there.
std::string unread_place(const mime::Problem& p) {
  std::string_view where = p.where;
  if (where.starts_with("attachment:")) where.remove_prefix(std::string_view("attachment:").size());
  std::string out(where.empty() ? std::string_view("the message") : where);
  return out + ": " + std::string(mime::describe(p.kind));
}

void add_unscannable(const Unscannable& policy, const mime::Message& message, Verdict& v) {
  if (policy.action == UnscannableAction::pass) return;
  FiredPolicy fired{std::string(kUnscannablePolicy), policy.severity, {}};
  for (const auto& p : message.problems) {
    if (!acted_on(p)) continue;
    fired.matches.push_back(RuleMatch{"unscannable:" + std::string(mime::to_string(p.kind)),
                                      p.where.empty() ? std::string("message") : p.where,
                                      1,
                                      {p.detail}});
  }
  if (fired.matches.empty()) return;
  v.policies.push_back(std::move(fired));
  if (policy.action != UnscannableAction::block) return;
  v.block_texts.push_back(unscannable_reply(policy, message.problems));
  v.action = Action::block;
}

Severity tiered_severity(const Policy& p, const std::vector<RuleMatch>& matches) {
  std::size_t total = 0;
  for (const auto& m : matches) total += m.count;
  Severity s = p.severity;
  for (const auto& tier : p.severity_tiers)
    if (total >= tier.min_count && tier.severity > s) s = tier.severity;
  return s;
}

void apply_responses(const Policy& p, Verdict& v) {
  for (const auto& response : p.responses) {
    if (const auto* block = std::get_if<BlockResponse>(&response)) {
      v.block_texts.push_back(block->text);
      v.action = std::max(v.action, Action::block);
    } else if (const auto* hold = std::get_if<HoldResponse>(&response)) {
      if (v.hold.empty()) v.hold = hold->reason;
      v.action = std::max(v.action, Action::hold);
    } else if (const auto* redirect = std::get_if<RedirectResponse>(&response)) {
      if (v.redirect.empty()) v.redirect = redirect->address;
      v.action = std::max(v.action, Action::redirect);
    } else if (const auto* modify = std::get_if<ModifyResponse>(&response)) {
      if (!modify->subject_prefix.empty() &&
          v.modify.subject_prefix.find(modify->subject_prefix) == std::string::npos)
        v.modify.subject_prefix += modify->subject_prefix;
      for (const auto& h : modify->add_headers)
        if (std::find(v.modify.add_headers.begin(), v.modify.add_headers.end(), h) ==
            v.modify.add_headers.end())
          v.modify.add_headers.push_back(h);
      v.action = std::max(v.action, Action::modify);
    }
  }
}

}  // namespace

std::string_view to_string(Action action) {
  switch (action) {
    case Action::pass:
      return "pass";
    case Action::modify:
      return "modify";
    case Action::redirect:
      return "redirect";
    case Action::hold:
      return "hold";
    case Action::block:
      return "block";
  }
  return "?";
}

std::string EvaluationError::describe() const {
  return "detection engine failed on " + component + ": " + scan.detail;
}

std::string unscannable_reply(const Unscannable& policy, std::span<const mime::Problem> problems) {
  std::vector<std::string> named;
  std::size_t more = 0;
  for (const auto& p : problems) {
    if (!acted_on(p)) continue;
    std::string place = unread_place(p);
    if (std::find(named.begin(), named.end(), place) != named.end()) continue;
    if (named.size() == kMaxUnscannableNamed) {
      ++more;
      continue;
    }
    named.push_back(std::move(place));
  }
  std::string what;
  for (const auto& n : named) what += (what.empty() ? "" : ", ") + n;
  if (more > 0) what += " and " + std::to_string(more) + " more";
  std::string text = policy.reply;
  if (auto at = text.find("{what}"); at != std::string::npos)
    text.replace(at, std::string_view("{what}").size(), what);
  return text;
}

namespace {

Evaluation evaluate_with(const PolicySet& set, detect::Scanner* scanner,
                         const mime::Message& message, const Envelope& envelope,
                         const extract::Expansion* expansion) {
  const auto& policies = set.policies();
  std::vector<bool> active(policies.size());
  bool any_active = false;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    active[i] = !excepted(policies[i], envelope);
    any_active = any_active || active[i];
  }
  Verdict verdict;
  if (!any_active) {
    add_limit_violation(expansion, verdict);
    add_unscannable(set.unscannable(), message, verdict);
    return verdict;
  }

  // The envelope is a component of its own, unless the parser supplied one.
  mime::Component envelope_component;
  std::vector<const mime::Component*> components;
  bool has_envelope = false;
  for (const auto& c : message.components) {
    components.push_back(&c);
    has_envelope = has_envelope || c.kind == mime::ComponentKind::envelope;
  }
  if (!has_envelope && (!envelope.sender.empty() || !envelope.recipients.empty())) {
    envelope_component.kind = mime::ComponentKind::envelope;
    envelope_component.name = "envelope";
    envelope_component.text = envelope_text(envelope);
    components.push_back(&envelope_component);
  }

  // hits[database rule] in component order.
  std::vector<RuleHits> hits(set.rule_count());
  for (std::size_t ci = 0; ci < components.size() && scanner; ++ci) {
    const mime::Component& c = *components[ci];
    if (c.text.empty()) continue;
    unsigned bit = component_bit(c.kind);
    auto scanned = scanner->scan(c.text);
    if (!scanned) return fail(EvaluationError{c.name, scanned.error()});
    if (c.kind == mime::ComponentKind::header && verdict.headers.empty())
      verdict.headers = detect::masked_excerpt(c.text, *scanned, kPreviewHeaderBytes);
    else if (c.kind == mime::ComponentKind::body && verdict.preview.empty())
      verdict.preview = detect::masked_excerpt(c.text, *scanned, kPreviewBodyBytes);
    for (auto& rf : *scanned) {
      const RuleRef& ref = set.rule_ref(rf.rule_index);
      const Policy& p = policies[ref.policy];
      if (!active[ref.policy] || !(p.components & bit)) continue;
      ComponentHits& h = hits[rf.rule_index].in(ci);
      for (const auto& f : rf.findings) h.add(f, c.text, *scanned);
    }
  }

  auto edm = edm_matches(set, active, components);
  auto idm = idm_matches(set, active, components);
  // The preview masks detector findings only; the fields of a matched EDM
  // row or the passage of an indexed document would be kept as written, so
  // a message with such a match keeps no preview at all.
  for (const auto* profile_matches : {&edm, &idm})
    for (const auto& policy_matches : *profile_matches)
      for (const auto& m : policy_matches)
        if (!m.empty()) {
          verdict.headers.clear();
          verdict.preview.clear();
        }

  std::size_t db_rule = 0;
  for (std::size_t pi = 0; pi < policies.size(); ++pi) {
    const Policy& p = policies[pi];
    std::size_t first_rule = db_rule;
    db_rule += p.rules.size();
    if (!active[pi]) continue;
    std::vector<RuleMatch> matches;
    std::size_t holding = 0;
    for (std::size_t ri = 0; ri < p.rules.size(); ++ri) {
      auto m = rule_matches(p.rules[ri], p.count_scope, hits[first_rule + ri], components);
      if (m.empty()) continue;
      ++holding;
      matches.insert(matches.end(), std::make_move_iterator(m.begin()),
                     std::make_move_iterator(m.end()));
    }
    for (const auto& condition : p.attachment_conditions) {
      if (!(p.components & kAttachments)) break;
      auto m = condition_matches(condition, expansion);
      if (m.empty()) continue;
      ++holding;
      matches.insert(matches.end(), std::make_move_iterator(m.begin()),
                     std::make_move_iterator(m.end()));
    }
    for (auto* conditions : {&edm[pi], &idm[pi]})
      for (auto& m : *conditions) {
        if (m.empty()) continue;
        ++holding;
        matches.insert(matches.end(), std::make_move_iterator(m.begin()),
                       std::make_move_iterator(m.end()));
      }
    bool fired = p.mode == MatchMode::any
                     ? holding > 0
                     : holding == p.rules.size() + p.attachment_conditions.size() +
                                      p.edm_conditions.size() + p.idm_conditions.size();
    if (!fired) continue;
    verdict.policies.push_back(
        FiredPolicy{p.name, tiered_severity(p, matches), std::move(matches)});
    apply_responses(p, verdict);
  }
  add_limit_violation(expansion, verdict);
  add_unscannable(set.unscannable(), message, verdict);
  return verdict;
}

}  // namespace

Evaluation evaluate(const PolicySet& set, detect::Scanner& scanner, const mime::Message& message,
                    const Envelope& envelope, const extract::Expansion* expansion) {
  return evaluate_with(set, &scanner, message, envelope, expansion);
}

Evaluator::Evaluator(std::shared_ptr<const PolicySet> set, detect::ScanFault fault)
    : set_(std::move(set)), scanner_(set_->make_scanner(std::move(fault))) {}

Evaluation Evaluator::evaluate(const mime::Message& message, const Envelope& envelope,
                               const extract::Expansion* expansion) {
  return evaluate_with(*set_, scanner_ ? &*scanner_ : nullptr, message, envelope, expansion);
}

}  // namespace cordon::policy
