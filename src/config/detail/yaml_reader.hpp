// Internal to the config loader: typed, position-aware reading of yaml-cpp
// nodes. A failure is a LoadFailure carrying the node's 1-based position.
// A MapReader that has a Problems list records the failures of its keys
// there and goes on with the key's default, so that one run reports every
// independent error; without one (and for what cannot be read on: a
// section that is not a mapping) it throws the LoadFailure, which the
// nearest Problems::attempt records. parse_config_text() turns the list
// into a ConfigError, so no exception leaves the config component.
#pragma once

#include "config/detail/yaml_include.hpp"

#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace cordon::config::yaml {

// The values a duration key accepts, and what a value outside them would
// do (for the error message; may be empty).
struct DurationRange {
  Duration min;
  Duration max;
  std::string_view consequence = {};
};

struct LoadFailure {
  SourceMark mark;
  std::string message;
};

// Every error of one configuration, in the order found.
class Problems {
 public:
  void add(LoadFailure failure) { failures_.push_back(std::move(failure)); }
  bool empty() const { return failures_.empty(); }
  const std::vector<LoadFailure>& all() const { return failures_; }

  // Runs `read`; a LoadFailure it throws is recorded (and false returned),
  // so that reading goes on with the next key, item or section.
  template <class Read>
  bool attempt(Read&& read) {
    try {
      read();
      return true;
    } catch (LoadFailure& failure) {
      add(std::move(failure));
      return false;
    }
  }

 private:
  std::vector<LoadFailure> failures_;
};

SourceMark mark_of(const YAML::Node& node, SourceMark fallback = {});

[[noreturn]] void fail_at(const YAML::Node& node, std::string message, SourceMark fallback = {});
[[noreturn]] void fail_at(SourceMark mark, std::string message);

// A YAML mapping whose keys are checked against the allowed set: an unknown
// key fails with "unknown key 'x' in SECTION; did you mean 'y'?", a repeated
// key fails too.
class MapReader {
 public:
  // `node` may be null (a section written as `console:`), read as empty.
  // With `problems`, unknown and repeated keys and the failures of the
  // typed accessors below are recorded there (the accessor returns its
  // fallback value); only a node that is not a mapping throws.
  MapReader(const YAML::Node& node, std::string section,
            std::initializer_list<std::string_view> allowed, SourceMark fallback = {},
            Problems* problems = nullptr);
  // The mapping under `parent`'s `key`, recording into the parent's Problems.
  MapReader(const MapReader& parent, std::string_view key, std::string section,
            std::initializer_list<std::string_view> allowed);

  // An error about this section that does not stop reading it: recorded,
  // or thrown when there is no Problems list.
  void report(SourceMark mark, std::string message) const;
  // Runs `read`, recording a LoadFailure it throws (see Problems::attempt);
  // without a Problems list the failure propagates.
  template <class Read>
  bool attempt(Read&& read) const {
    if (!problems_) {
      read();
      return true;
    }
    return problems_->attempt(std::forward<Read>(read));
  }
  Problems* problems() const { return problems_; }

  bool has(std::string_view key) const;
  // The value node (undefined when absent) and its position.
  YAML::Node get(std::string_view key) const;
  SourceMark value_mark(std::string_view key) const;
  SourceMark mark() const { return mark_; }
  const std::string& section() const { return section_; }

  std::string string(std::string_view key, std::string fallback_value) const;
  bool boolean(std::string_view key, bool fallback_value) const;
  std::size_t unsigned_number(std::string_view key, std::size_t fallback_value, std::size_t min,
                              std::size_t max) const;
  Duration duration(std::string_view key, Duration fallback_value) const;
  // A duration that must lie in [min, max]: zero or an absurd value where
  // it would mean "never works" is a configuration error, not a silent
  // failure at run time. `consequence` (may be empty) says what a value
  // out of range would do, in the error.
  Duration duration(std::string_view key, Duration fallback_value, DurationRange range) const;
  std::size_t size(std::string_view key, std::size_t fallback_value) const;
  HostPort host_port(std::string_view key, HostPort fallback_value, bool listen = false) const;
  // One of `choices`, returned as its index.
  std::size_t choice(std::string_view key, std::size_t fallback_index,
                     std::initializer_list<std::string_view> choices) const;
  std::vector<std::string> string_list(std::string_view key) const;

 private:
  YAML::Node node_;
  std::string section_;
  SourceMark mark_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
  std::vector<SourceMark> key_marks_;
  Problems* problems_ = nullptr;

  // Runs a typed read of `key`; on failure records it and returns `fallback`.
  template <class T, class Read>
  T guarded(T fallback_value, Read&& read) const {
    T out = fallback_value;
    if (!attempt([&] { out = read(); })) return fallback_value;
    return out;
  }
};

// Scalar conversions of one node; `what` names the value in messages.
std::string as_string(const YAML::Node& node, std::string_view what, SourceMark fallback = {});
std::vector<std::string> as_string_list(const YAML::Node& node, std::string_view what,
                                        SourceMark fallback = {});
std::size_t as_unsigned(const YAML::Node& node, std::string_view what, std::size_t min,
                        std::size_t max, SourceMark fallback = {});
Duration as_duration(const YAML::Node& node, std::string_view what, SourceMark fallback = {});
Duration as_duration(const YAML::Node& node, std::string_view what, DurationRange range,
                     SourceMark fallback = {});

// The closest of `candidates` to `word` when it is a plausible typo.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace cordon::config::yaml
