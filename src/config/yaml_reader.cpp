// Position-aware typed reading of yaml-cpp nodes for the config loader.
#include "config/detail/yaml_reader.hpp"

#include <algorithm>
#include <charconv>

namespace cordon::config::yaml {
namespace {

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return in_quotes(node.Scalar());
    case YAML::NodeType::Undefined:
      return "nothing";
  }
  return "something else";
}

}  // namespace

SourceMark mark_of(const YAML::Node& node, SourceMark fallback) {
  if (!node.IsDefined()) return fallback;
  YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0) return fallback;
  return {m.line + 1, m.column + 1};
}

void fail_at(const YAML::Node& node, std::string message, SourceMark fallback) {
  throw LoadFailure{mark_of(node, fallback), std::move(message)};
}

void fail_at(SourceMark mark, std::string message) {
  throw LoadFailure{mark, std::move(message)};
}

std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  std::size_t best_distance = word.size() / 3 + 2;  // beyond this it is not a typo
  for (auto c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

MapReader::MapReader(const MapReader& parent, std::string_view key, std::string section,
                     std::initializer_list<std::string_view> allowed)
    : MapReader(parent.get(key), std::move(section), allowed, parent.value_mark(key),
                parent.problems_) {}

void MapReader::report(SourceMark mark, std::string message) const {
  if (!problems_) fail_at(mark, std::move(message));
  problems_->add(LoadFailure{mark, std::move(message)});
}

MapReader::MapReader(const YAML::Node& node, std::string section,
                     std::initializer_list<std::string_view> allowed, SourceMark fallback,
                     Problems* problems)
    : node_(node),
      section_(std::move(section)),
      mark_(mark_of(node, fallback)),
      problems_(problems) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap())
    fail_at(node, section_ + " must be a mapping of keys to values, got " + kind_name(node),
            fallback);
  std::vector<std::string_view> allowed_list(allowed.begin(), allowed.end());
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: yaml-cpp's iterator hands out a temporary proxy, so a
    // reference to its members would dangle.
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    // A bad key is reported and skipped; the other keys are still read.
    if (!key.IsScalar()) {
      report(mark_of(key, mark_), "keys in " + section_ + " must be plain names");
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string message = "unknown key " + in_quotes(name) + " in " + section_;
      if (auto guess = closest(name, allowed_list); !guess.empty())
        message += "; did you mean " + in_quotes(guess) + "?";
      else
        message += "; valid keys: " + join(allowed);
      report(mark_of(key, mark_), message);
      continue;
    }
    if (has(name)) {
      report(mark_of(key, mark_), "duplicate key " + in_quotes(name) + " in " + section_);
      continue;
    }
    entries_.emplace_back(name, value);
    key_marks_.push_back(mark_of(key, mark_));
  }
}

bool MapReader::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return e.first == key; });
}

YAML::Node MapReader::get(std::string_view key) const {
  for (const auto& [name, value] : entries_)
    if (name == key) return value;
  return YAML::Node(YAML::NodeType::Undefined);
}

SourceMark MapReader::value_mark(std::string_view key) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].first == key) return mark_of(entries_[i].second, key_marks_[i]);
  return mark_;
}

std::string MapReader::string(std::string_view key, std::string fallback_value) const {
  if (!has(key)) return fallback_value;
  YAML::Node v = get(key);
  if (v.IsNull()) return "";
  return guarded(fallback_value,
                 [&] { return as_string(v, section_ + "." + std::string(key), value_mark(key)); });
}

bool MapReader::boolean(std::string_view key, bool fallback_value) const {
  if (!has(key)) return fallback_value;
  YAML::Node v = get(key);
  std::string what = section_ + "." + std::string(key);
  if (v.IsScalar()) {
    const std::string& s = v.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  report(mark_of(v, value_mark(key)), what + " must be true or false, got " + kind_name(v));
  return fallback_value;
}

std::size_t MapReader::unsigned_number(std::string_view key, std::size_t fallback_value,
                                       std::size_t min, std::size_t max) const {
  if (!has(key)) return fallback_value;
  return guarded(fallback_value, [&] {
    return as_unsigned(get(key), section_ + "." + std::string(key), min, max, value_mark(key));
  });
}

Duration MapReader::duration(std::string_view key, Duration fallback_value) const {
  if (!has(key)) return fallback_value;
  return guarded(fallback_value, [&] {
    return as_duration(get(key), section_ + "." + std::string(key), value_mark(key));
  });
}

Duration MapReader::duration(std::string_view key, Duration fallback_value,
                             DurationRange range) const {
  if (!has(key)) return fallback_value;
  return guarded(fallback_value, [&] {
    return as_duration(get(key), section_ + "." + std::string(key), range, value_mark(key));
  });
}

std::size_t MapReader::size(std::string_view key, std::size_t fallback_value) const {
  if (!has(key)) return fallback_value;
  return guarded(fallback_value, [&] {
    std::string what = section_ + "." + std::string(key);
    std::string text = as_string(get(key), what, value_mark(key));
    auto r = parse_size(text);
    if (!r) fail_at(value_mark(key), what + ": " + r.error());
    return *r;
  });
}

HostPort MapReader::host_port(std::string_view key, HostPort fallback_value, bool listen) const {
  if (!has(key)) return fallback_value;
  return guarded(fallback_value, [&] {
    std::string what = section_ + "." + std::string(key);
    std::string text = as_string(get(key), what, value_mark(key));
    auto r = parse_host_port(text, listen);
    if (!r) fail_at(value_mark(key), what + ": " + r.error());
    return *r;
  });
}

std::size_t MapReader::choice(std::string_view key, std::size_t fallback_index,
                              std::initializer_list<std::string_view> choices) const {
  if (!has(key)) return fallback_index;
  return guarded(fallback_index, [&] {
    std::string what = section_ + "." + std::string(key);
    std::string text = as_string(get(key), what, value_mark(key));
    std::size_t i = 0;
    for (auto c : choices) {
      if (c == text) return i;
      ++i;
    }
    fail_at(value_mark(key),
            what + " must be one of " + join(choices) + ", got " + in_quotes(text));
  });
}

std::vector<std::string> MapReader::string_list(std::string_view key) const {
  if (!has(key)) return {};
  return guarded(std::vector<std::string>{}, [&] {
    return as_string_list(get(key), section_ + "." + std::string(key), value_mark(key));
  });
}

std::string as_string(const YAML::Node& node, std::string_view what, SourceMark fallback) {
  if (!node.IsScalar())
    fail_at(node, std::string(what) + " must be a single value, got " + kind_name(node), fallback);
  return node.Scalar();
}

std::vector<std::string> as_string_list(const YAML::Node& node, std::string_view what,
                                        SourceMark fallback) {
  if (node.IsNull()) return {};
  if (!node.IsSequence())
    fail_at(node, std::string(what) + " must be a list, like [a, b], got " + kind_name(node),
            fallback);
  std::vector<std::string> out;
  for (const auto& item : node)
    out.push_back(as_string(item, std::string(what) + " item", mark_of(node, fallback)));
  return out;
}

std::size_t as_unsigned(const YAML::Node& node, std::string_view what, std::size_t min,
                        std::size_t max, SourceMark fallback) {
  std::string text = as_string(node, what, fallback);
  std::size_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || n < min || n > max)
    fail_at(node,
            std::string(what) + " must be a whole number from " + std::to_string(min) + " to " +
                std::to_string(max) + ", got " + in_quotes(text),
            fallback);
  return n;
}

Duration as_duration(const YAML::Node& node, std::string_view what, SourceMark fallback) {
  std::string text = as_string(node, what, fallback);
  auto r = parse_duration(text);
  if (!r) fail_at(node, std::string(what) + ": " + r.error(), fallback);
  return *r;
}

Duration as_duration(const YAML::Node& node, std::string_view what, DurationRange range,
                     SourceMark fallback) {
  Duration d = as_duration(node, what, fallback);
  if (d < range.min || d > range.max) {
    std::string message = std::string(what) + " must be from " + format_duration(range.min) +
                          " to " + format_duration(range.max) + ", got " + in_quotes(node.Scalar());
    if (!range.consequence.empty()) message += " (" + std::string(range.consequence) + ")";
    fail_at(node, message, fallback);
  }
  return d;
}

}  // namespace cordon::config::yaml
