// Reads the `policies:` list of the configuration: names, severities,
// components, match rules, exceptions and responses, with positions kept
// so later errors (a regex the engine rejects) can point at the YAML.
#include "config/detail/policy_parse.hpp"

#include <algorithm>

#include "config/detail/yaml_reader.hpp"

namespace cordon::config {
namespace {

using namespace cordon::policy;  // the model this file fills in

using yaml::fail_at;
using yaml::MapReader;

Severity read_severity(const MapReader& m, Severity fallback_value) {
  return static_cast<Severity>(m.choice("severity", static_cast<std::size_t>(fallback_value),
                                        {"info", "low", "medium", "high"}));
}

unsigned read_components(const MapReader& m, const std::string& where) {
  if (!m.has("components")) return kAllComponents;
  auto node = m.get("components");
  auto names = yaml::as_string_list(node, where + ".components", m.value_mark("components"));
  if (names.empty()) fail_at(m.value_mark("components"), where + ".components must not be empty");
  unsigned mask = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    if (n == "subject")
      mask |= kSubject;
    else if (n == "body")
      mask |= kBody;
    else if (n == "headers" || n == "header")
      mask |= kHeaders;
    else if (n == "attachments" || n == "attachment")
      mask |= kAttachments;
    else if (n == "envelope")
      mask |= kEnvelope;
    else
      fail_at(node[i],
              where + ".components: unknown component '" + n +
                  "' (use subject, body, headers, attachments, envelope)",
              m.value_mark("components"));
  }
  return mask;
}

PolicyRule read_rule(const YAML::Node& node, const std::string& where, SourceMark fallback) {
  MapReader m(node, where,
              {"identifier", "keywords", "regex", "min_count", "confidence", "proximity",
               "support_keywords"},
              fallback);
  int kinds = m.has("identifier") + m.has("keywords") + m.has("regex");
  if (kinds != 1)
    fail_at(m.mark(), where + " must have exactly one of identifier, keywords or regex");
  PolicyRule r;
  r.min_count = m.unsigned_number("min_count", 1, 1, 1000000);
  if (!m.has("identifier")) {
    for (const char* key : {"confidence", "proximity", "support_keywords"})
      if (m.has(key))
        fail_at(m.value_mark(key), where + ": " + key + " applies to identifier rules only");
  }
  if (m.has("identifier")) {
    detect::IdentifierRule id;
    id.identifier = m.string("identifier", "");
    r.mark = m.value_mark("identifier");
    if (id.identifier.empty()) fail_at(r.mark, where + ".identifier must name a data identifier");
    id.confidence =
        static_cast<detect::Confidence>(m.choice("confidence", 1, {"low", "medium", "high"}));
    id.proximity = m.unsigned_number("proximity", id.proximity, 1, 100000);
    id.support_keywords = m.string_list("support_keywords");
    r.display = "identifier:" + id.identifier;
    r.rule.what = std::move(id);
  } else if (m.has("keywords")) {
    r.mark = m.value_mark("keywords");
    auto node_kw = m.get("keywords");
    detect::KeywordRule kw;
    if (node_kw.IsScalar())
      kw.keywords = {node_kw.Scalar()};
    else
      kw.keywords = yaml::as_string_list(node_kw, where + ".keywords", r.mark);
    if (kw.keywords.empty()) fail_at(r.mark, where + ".keywords must list at least one keyword");
    for (std::size_t i = 0; i < kw.keywords.size(); ++i)
      if (kw.keywords[i].find_first_not_of(" \t") == std::string::npos)
        fail_at(node_kw.IsSequence() ? node_kw[i] : node_kw,
                where + ".keywords: a keyword must not be blank", r.mark);
    r.display = "keywords";
    r.rule.what = std::move(kw);
  } else {
    r.mark = m.value_mark("regex");
    detect::RegexRule re{m.string("regex", "")};
    if (re.pattern.empty()) fail_at(r.mark, where + ".regex must not be empty");
    r.display = "regex:" + re.pattern;
    r.rule.what = std::move(re);
  }
  return r;
}

// `- attachment: {types: [...], names: [...], min_size: 10MB, encrypted: true}`
extract::FileCondition read_attachment_condition(const YAML::Node& node, const std::string& where,
                                                 SourceMark fallback) {
  MapReader item(node, where, {"attachment"}, fallback);
  MapReader m(item.get("attachment"), where + ".attachment",
              {"types", "names", "min_size", "encrypted"}, item.value_mark("attachment"));
  extract::FileCondition c;
  c.types = m.string_list("types");
  c.names = m.string_list("names");
  c.min_size = m.size("min_size", 0);
  c.encrypted_only = m.boolean("encrypted", false);
  if (c.types.empty() && c.names.empty() && c.min_size == 0 && !c.encrypted_only)
    fail_at(m.mark(), where + ".attachment needs types, names, min_size or encrypted: true");
  return c;
}

// `- edm: {profile: customers, min_fields: 2, columns: [...], proximity: 300}`
EdmCondition read_edm_condition(const YAML::Node& node, const std::string& where,
                                SourceMark fallback) {
  MapReader item(node, where, {"edm"}, fallback);
  MapReader m(item.get("edm"), where + ".edm", {"profile", "min_fields", "columns", "proximity"},
              item.value_mark("edm"));
  EdmCondition c;
  c.mark = item.value_mark("edm");
  c.profile = m.string("profile", "");
  if (c.profile.empty()) fail_at(m.mark(), where + ".edm needs the profile it matches");
  c.min_fields = m.unsigned_number("min_fields", c.min_fields, 1, 64);
  c.columns = m.string_list("columns");
  c.proximity = m.unsigned_number("proximity", c.proximity, 1, 100000);
  return c;
}

// `- idm: {profile: board, min_percent: 30}`
IdmCondition read_idm_condition(const YAML::Node& node, const std::string& where,
                                SourceMark fallback) {
  MapReader item(node, where, {"idm"}, fallback);
  MapReader m(item.get("idm"), where + ".idm", {"profile", "min_percent"}, item.value_mark("idm"));
  IdmCondition c;
  c.mark = item.value_mark("idm");
  c.profile = m.string("profile", "");
  if (c.profile.empty()) fail_at(m.mark(), where + ".idm needs the profile it matches");
  c.min_percent = static_cast<unsigned>(m.unsigned_number("min_percent", c.min_percent, 1, 100));
  return c;
}

void read_match(const MapReader& pm, const std::string& where, Policy& p) {
  if (!pm.has("match"))
    fail_at(pm.mark(), where + " has no match: say what it looks for (match: {any: [...]})");
  MapReader m(pm.get("match"), where + ".match", {"any", "all"}, pm.value_mark("match"));
  if (m.has("any") == m.has("all"))
    fail_at(m.mark(), where + ".match must have exactly one of any or all");
  const char* mode = m.has("any") ? "any" : "all";
  p.mode = m.has("any") ? MatchMode::any : MatchMode::all;
  auto list = m.get(mode);
  std::string list_where = where + ".match." + mode;
  if (!list.IsSequence() || list.size() == 0)
    fail_at(list, list_where + " must be a non-empty list of rules (identifier, keywords or regex)",
            m.value_mark(mode));
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string item_where = list_where + "[" + std::to_string(i) + "]";
    if (list[i].IsMap() && list[i]["idm"])
      p.idm_conditions.push_back(read_idm_condition(list[i], item_where, m.value_mark(mode)));
    else if (list[i].IsMap() && list[i]["edm"])
      p.edm_conditions.push_back(read_edm_condition(list[i], item_where, m.value_mark(mode)));
    else if (list[i].IsMap() && list[i]["attachment"])
      p.attachment_conditions.push_back(
          read_attachment_condition(list[i], item_where, m.value_mark(mode)));
    else
      p.rules.push_back(read_rule(list[i], item_where, m.value_mark(mode)));
  }
}

Response read_response(const YAML::Node& node, const std::string& where, SourceMark fallback) {
  MapReader m(node, where, {"block", "modify", "redirect", "hold"}, fallback);
  if (m.has("block") + m.has("modify") + m.has("redirect") + m.has("hold") != 1)
    fail_at(m.mark(), where + " must be exactly one of block, modify, redirect or hold");
  if (m.has("hold")) {
    std::string reason = m.string("hold", "");
    if (reason.find_first_not_of(" \t") == std::string::npos)
      fail_at(m.value_mark("hold"), where + ".hold needs a reason for the reviewer");
    if (reason.find_first_of("\r\n") != std::string::npos)
      fail_at(m.value_mark("hold"), where + ".hold must be one line");
    return HoldResponse{reason};
  }
  if (m.has("block")) {
    std::string text = m.string("block", "");
    if (text.find_first_not_of(" \t") == std::string::npos)
      fail_at(m.value_mark("block"), where + ".block needs the text the sender sees");
    return BlockResponse{text};
  }
  if (m.has("redirect")) {
    std::string address = m.string("redirect", "");
    auto at = address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == address.size() ||
        address.find_first_of(" \t<>,") != std::string::npos)
      fail_at(m.value_mark("redirect"),
              where + ".redirect must be one mail address, like quarantine@example.com");
    return RedirectResponse{address};
  }
  MapReader mod(m.get("modify"), where + ".modify", {"subject_prefix", "add_header"},
                m.value_mark("modify"));
  ModifyResponse out;
  out.subject_prefix = mod.string("subject_prefix", "");
  if (mod.has("add_header")) {
    auto hn = mod.get("add_header");
    out.add_headers = hn.IsScalar() ? std::vector<std::string>{hn.Scalar()}
                                    : yaml::as_string_list(hn, where + ".modify.add_header",
                                                           mod.value_mark("add_header"));
  }
  for (const auto& h : out.add_headers) {
    auto colon = h.find(':');
    bool name_ok = colon != std::string::npos && colon > 0 &&
                   std::all_of(h.begin(), h.begin() + static_cast<long>(colon),
                               [](char c) { return c > 32 && c < 127 && c != ':'; });
    if (!name_ok || h.find_first_of("\r\n") != std::string::npos)
      fail_at(mod.value_mark("add_header"),
              where + ".modify.add_header must be 'Name: value', got '" + h + "'");
  }
  if (out.subject_prefix.find_first_of("\r\n") != std::string::npos)
    fail_at(mod.value_mark("subject_prefix"), where + ".modify.subject_prefix must be one line");
  if (out.subject_prefix.empty() && out.add_headers.empty())
    fail_at(mod.mark(), where + ".modify needs subject_prefix or add_header");
  return out;
}

Policy read_policy(const YAML::Node& node, std::size_t index, SourceMark fallback) {
  std::string where = "policies[" + std::to_string(index) + "]";
  MapReader m(node, where,
              {"name", "severity", "severity_tiers", "components", "match", "min_count_scope",
               "except", "respond"},
              fallback);
  Policy p;
  p.mark = m.mark();
  p.name = m.string("name", "");
  if (p.name.find_first_not_of(" \t") == std::string::npos)
    fail_at(m.has("name") ? m.value_mark("name") : m.mark(), where + " needs a name");
  where = "policy '" + p.name + "'";
  p.severity = read_severity(m, Severity::medium);
  if (m.has("severity_tiers")) {
    auto tiers = m.get("severity_tiers");
    if (!tiers.IsSequence())
      fail_at(tiers, where + ".severity_tiers must be a list", m.value_mark("severity_tiers"));
    for (std::size_t i = 0; i < tiers.size(); ++i) {
      MapReader t(tiers[i], where + ".severity_tiers[" + std::to_string(i) + "]",
                  {"min_count", "severity"}, m.value_mark("severity_tiers"));
      if (!t.has("min_count") || !t.has("severity"))
        fail_at(t.mark(), where + ".severity_tiers items need min_count and severity");
      p.severity_tiers.push_back(
          {t.unsigned_number("min_count", 1, 1, 1000000000), read_severity(t, p.severity)});
    }
    std::sort(
        p.severity_tiers.begin(), p.severity_tiers.end(),
        [](const SeverityTier& a, const SeverityTier& b) { return a.min_count < b.min_count; });
  }
  p.components = read_components(m, where);
  p.count_scope =
      static_cast<CountScope>(m.choice("min_count_scope", 0, {"per_component", "per_message"}));
  read_match(m, where, p);
  if (m.has("except")) {
    MapReader e(m.get("except"), where + ".except", {"recipients", "senders"},
                m.value_mark("except"));
    p.except_recipients = e.string_list("recipients");
    p.except_senders = e.string_list("senders");
  }
  if (m.has("respond")) {
    auto list = m.get("respond");
    if (!list.IsSequence())
      fail_at(list, where + ".respond must be a list of block, modify or redirect",
              m.value_mark("respond"));
    for (std::size_t i = 0; i < list.size(); ++i)
      p.responses.push_back(read_response(list[i], where + ".respond[" + std::to_string(i) + "]",
                                          m.value_mark("respond")));
  }
  return p;
}

}  // namespace

std::vector<Policy> read_policies(const YAML::Node& node, SourceMark fallback,
                                  yaml::Problems& problems) {
  if (node.IsNull()) return {};
  if (!node.IsSequence()) fail_at(node, "policies must be a list of policies", fallback);
  std::vector<Policy> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    // A policy stops at its first error; the next policy is still read.
    problems.attempt([&] {
      Policy p = read_policy(node[i], i, yaml::mark_of(node, fallback));
      for (const auto& other : out)
        if (other.name == p.name)
          fail_at(p.mark, "duplicate policy name '" + p.name + "' (first defined at line " +
                              std::to_string(other.mark.line) + ")");
      out.push_back(std::move(p));
    });
  }
  return out;
}

policy::EdmSettings read_edm(const MapReader& top) {
  EdmSettings edm;
  MapReader m(top, "edm", "edm", {"key_file", "profiles"});
  edm.key_file = m.string("key_file", "");
  edm.key_mark = m.has("key_file") ? m.value_mark("key_file") : m.mark();
  if (!m.has("profiles")) return edm;
  auto list = m.get("profiles");
  if (!list.IsSequence()) fail_at(list, "edm.profiles must be a list", m.value_mark("profiles"));
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string where = "edm.profiles[" + std::to_string(i) + "]";
    m.attempt([&] {
      MapReader pm(list[i], where, {"name", "index", "columns", "column_types", "common_rows"},
                   m.value_mark("profiles"));
      EdmProfile p;
      p.mark = pm.mark();
      p.name = pm.string("name", "");
      if (p.name.find_first_not_of(" \t") == std::string::npos)
        fail_at(pm.mark(), where + " needs a name");
      for (const auto& other : edm.profiles)
        if (other.name == p.name) fail_at(pm.mark(), "duplicate EDM profile name '" + p.name + "'");
      p.index = pm.string("index", "");
      if (p.index.empty()) fail_at(pm.mark(), where + " needs the path of its index");
      auto names = pm.string_list("columns");
      if (names.empty() || names.size() > 64)
        fail_at(pm.has("columns") ? pm.value_mark("columns") : pm.mark(),
                where + ".columns must list 1 to 64 column names");
      for (const auto& n : names) {
        if (n.empty())
          fail_at(pm.value_mark("columns"), where + ".columns: a name must not be empty");
        for (const auto& c : p.columns)
          if (c.name == n) fail_at(pm.value_mark("columns"), where + ".columns: '" + n + "' twice");
        p.columns.push_back({n, detect::edm::infer_type(n)});
      }
      if (pm.has("column_types")) {
        auto types = pm.get("column_types");
        if (!types.IsMap())
          fail_at(types, where + ".column_types must map column names to text, digits or email",
                  pm.value_mark("column_types"));
        for (const auto& kv : types) {
          std::string col = kv.first.Scalar(), type = kv.second.Scalar();
          auto it = std::find_if(p.columns.begin(), p.columns.end(),
                                 [&](const detect::edm::Column& c) { return c.name == col; });
          if (it == p.columns.end())
            fail_at(kv.first, where + ".column_types: '" + col + "' is not one of its columns",
                    pm.value_mark("column_types"));
          if (type == "text")
            it->type = detect::edm::ColumnType::text;
          else if (type == "digits")
            it->type = detect::edm::ColumnType::digits;
          else if (type == "email")
            it->type = detect::edm::ColumnType::email;
          else
            fail_at(kv.second, where + ".column_types." + col + " must be text, digits or email",
                    pm.value_mark("column_types"));
        }
      }
      p.common_rows = pm.unsigned_number("common_rows", p.common_rows, 1, 1000000);
      edm.profiles.push_back(std::move(p));
    });
  }
  if (!edm.profiles.empty() && edm.key_file.empty())
    m.report(m.mark(),
             "edm.key_file is required with edm.profiles (the secret of the keyed hashes)");
  return edm;
}

policy::IdmSettings read_idm(const MapReader& top) {
  IdmSettings idm;
  MapReader m(top, "idm", "idm", {"key_file", "profiles"});
  idm.key_file = m.string("key_file", "");
  idm.key_mark = m.has("key_file") ? m.value_mark("key_file") : m.mark();
  if (!m.has("profiles")) return idm;
  auto list = m.get("profiles");
  if (!list.IsSequence()) fail_at(list, "idm.profiles must be a list", m.value_mark("profiles"));
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string where = "idm.profiles[" + std::to_string(i) + "]";
    m.attempt([&] {
      MapReader pm(list[i], where, {"name", "index", "boilerplate"}, m.value_mark("profiles"));
      IdmProfile p;
      p.mark = pm.mark();
      p.name = pm.string("name", "");
      if (p.name.find_first_not_of(" \t") == std::string::npos)
        fail_at(pm.mark(), where + " needs a name");
      for (const auto& other : idm.profiles)
        if (other.name == p.name) fail_at(pm.mark(), "duplicate IDM profile name '" + p.name + "'");
      p.index = pm.string("index", "");
      if (p.index.empty()) fail_at(pm.mark(), where + " needs the path of its index");
      p.boilerplate = pm.string_list("boilerplate");
      idm.profiles.push_back(std::move(p));
    });
  }
  if (!idm.profiles.empty() && idm.key_file.empty())
    m.report(m.mark(),
             "idm.key_file is required with idm.profiles (the secret of the keyed hashes)");
  return idm;
}

policy::Unscannable read_on_unscannable(const MapReader& top) {
  Unscannable u;
  if (!top.has("on_unscannable")) return u;
  if (top.get("on_unscannable").IsScalar()) {
    u.action =
        static_cast<UnscannableAction>(top.choice("on_unscannable", 0, {"block", "flag", "pass"}));
    return u;
  }
  MapReader m(top, "on_unscannable", "on_unscannable", {"action", "severity", "reply"});
  u.action = static_cast<UnscannableAction>(m.choice("action", 0, {"block", "flag", "pass"}));
  u.severity = read_severity(m, u.severity);
  if (m.has("reply")) {
    u.reply = m.string("reply", "");
    if (u.reply.find_first_not_of(" \t") == std::string::npos)
      m.report(m.value_mark("reply"), "on_unscannable.reply needs the text the sender sees");
  }
  return u;
}

}  // namespace cordon::config
