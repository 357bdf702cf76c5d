// Checked reading of YAML configuration: typed fields with ranges, unknown keys reported with
// the nearest valid key, --set overrides applied to the tree, and every problem located at a
// file line or at the override that caused it. Generic: knows nothing about gstrain's fields
// (trainer/config.cpp lists those once, for reading and writing alike).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gs::config_detail {

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
// neighbouring characters each cost 1 (a swap is the commonest typo: "iteratoins").
int edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word` by edit_distance (first one on ties); "" when none.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

// Shortest decimal text that reads back as exactly `value` ("0.0002", not 0.00020000000000000001).
std::string format_number(double value);

// Closed integer interval [lo, hi].
struct IntRange {
  int64_t lo, hi;
};

// Real interval [lo, hi], or (lo, hi] when lo_open (for "must be > 0" fields).
struct RealRange {
  double lo, hi;
  bool lo_open = false;
};

// Where the configuration text came from and where each key is: turns a key path into
// "config 'x.yaml', line 12" or "--set train.iterations=5", and collects every problem so one
// run reports them all, in file order.
class ConfigSource {
 public:
  explicit ConfigSource(std::string origin);

  const std::string& origin() const { return origin_; }

  // Parses the text and records the line of every key (before any override touches the tree).
  // Syntax errors and duplicate keys become problems; the result is always a map.
  YAML::Node parse(const std::string& text);

  // Applies one "key.path=value" override: the value is parsed as YAML, missing sections on the
  // way are created. Malformed overrides become problems.
  void apply_override(YAML::Node& root, const std::string& text);

  // "config 'x.yaml', line 12", "--set a.b=1", or "config 'x.yaml'" when nothing is closer.
  std::string where(const std::string& key_path) const;

  // Records a problem about `key_path`; the message is prefixed with where(key_path).
  void error(const std::string& key_path, const std::string& message);

  // Unknown keys are collected while sections are read and reported once every section has
  // named its keys, so a key in the wrong section can be pointed to where it belongs
  // ("budget_gb" at the top level: did you mean 'memory.budget_gb'?).
  void add_valid_key(const std::string& key_path);
  void add_unknown_key(const std::string& section_path, const std::string& key,
                       const std::vector<std::string>& section_keys);
  void report_unknown_keys();

  bool has_errors() const { return !problems_.empty(); }

  // Throws one ConfigError listing every recorded problem (one per line, in file order).
  void throw_if_errors() const;

 private:
  struct Location {
    int line;  // 1-based file line; 0 for the whole file; INT_MAX for overrides (sorted last)
    std::string text;
  };
  Location locate(const std::string& key_path) const;
  void record_key_lines(const YAML::Node& node, const std::string& path);
  void add_problem(Location location, const std::string& message);

  struct Problem {
    int line;
    size_t sequence;
    std::string text;
  };

  struct UnknownKey {
    std::string section_path, key;
    std::vector<std::string> section_keys;
  };

  std::string origin_;
  std::vector<std::string> valid_key_paths_;
  std::vector<UnknownKey> unknown_keys_;
  std::map<std::string, int> key_lines_;                        // key path -> 1-based line
  std::vector<std::pair<std::string, std::string>> overrides_;  // key path, override text
  std::vector<Problem> problems_;
};

// Reads one YAML map (a configuration section). Each call names a valid key of the section and
// reads it if present (absent keys keep their defaults); finish() then reports the keys nobody
// asked for. A bad value is recorded as a problem and leaves the field unchanged.
class SectionReader {
 public:
  // `node` may be undefined or null (an absent or empty section).
  SectionReader(ConfigSource& source, const YAML::Node& node, std::string path);

  void field(const char* key, int& value, IntRange range);
  void field(const char* key, int64_t& value, IntRange range);
  void field(const char* key, uint64_t& value);  // any non-negative 64-bit integer
  void field(const char* key, double& value, RealRange range);
  void field(const char* key, bool& value);
  void field(const char* key, std::string& value);  // free text; an empty value reads as ""

  // A word from a fixed list (string-valued enums such as data.format).
  void choice(const char* key, std::string& value, const std::vector<std::string>& allowed);

  // An enum class spelled by the names in `names`.
  template <class E>
  void choice(const char* key, E& value, const std::vector<std::pair<const char*, E>>& names) {
    std::vector<std::string> allowed;
    std::string text;
    for (const auto& [name, e] : names) {
      allowed.emplace_back(name);
      if (e == value) text = name;
    }
    if (!read_choice(key, text, allowed)) return;
    for (const auto& [name, e] : names)
      if (text == name) value = e;
  }

  // A nested section; `read(SectionReader&)` reads its fields. Unknown keys inside are reported.
  template <class Fn>
  void section(const char* key, Fn read) {
    const YAML::Node* node = find(key);
    SectionReader child(*source_, node ? *node : YAML::Node(), key_path(key));
    read(child);
    child.finish();
  }

  // A map from names to sections, in file order, e.g. `nodes: {background: {...}, sky: {...}}`.
  // Replaces `items` when the key is present; T needs a `std::string name`.
  // `read(SectionReader&, T&)` reads one item's fields.
  template <class T, class Fn>
  void named_sections(const char* key, std::vector<T>& items, Fn read) {
    const YAML::Node* node = find(key);
    if (!node || node->IsNull()) return;
    if (!node->IsMap()) {
      source_->error(key_path(key), "'" + key_path(key) +
                                        "' must be a map from names to sections (name: {...}), "
                                        "got " + describe(*node));
      return;
    }
    items.clear();
    for (const auto& entry : *node) {
      T item;
      item.name = entry.first.Scalar();
      SectionReader child(*source_, entry.second, key_path(key) + "." + item.name);
      read(child, item);
      child.finish();
      items.push_back(std::move(item));
    }
  }

  // Hands every key of this section that no call above named to ConfigSource, which reports
  // them (with the nearest valid key) in report_unknown_keys().
  void finish();

 private:
  const YAML::Node* find(const char* key);  // also marks `key` valid; nullptr when absent
  std::string key_path(const std::string& key) const;
  // The scalar text of `key`; false when absent or (after recording why) not a single value.
  bool scalar(const char* key, const std::string& expected, std::string& text);
  void bad_value(const char* key, const std::string& expected, const std::string& got);
  bool read_choice(const char* key, std::string& value, const std::vector<std::string>& allowed);
  static std::string describe(const YAML::Node& node);

  ConfigSource* source_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
  std::vector<std::string> valid_keys_;
};

}  // namespace gs::config_detail
