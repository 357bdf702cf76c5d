// Checked YAML reading for configurations: parsing with key lines, --set overrides, typed and
// range-checked fields, unknown-key suggestions, and one error listing every problem.
#include "config/config_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/errors.h"

namespace gs::config_detail {

namespace {

const char* kHint =
    "every section and key, with comments, is in the presets under configs/ (a run also writes "
    "its fully resolved config.yaml to the output directory)";

std::string join(const std::vector<std::string>& words, const char* separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += separator;
    out += words[i];
  }
  return out;
}

// YAML 1.1 allows digit separators (800_000); the presets and drivestudio-style configs use them.
std::string without_underscores(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c != '_') out += c;
  return out;
}

bool parse_real(const std::string& raw, double& value) {
  const std::string text = without_underscores(raw);
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE) return false;
  value = v;
  return true;
}

// Integers may be written as reals with an integral value ("1e6" points, "40000.0" steps).
bool parse_integer(const std::string& raw, int64_t& value) {
  const std::string text = without_underscores(raw);
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() + text.size() && errno == 0) {
    value = v;
    return true;
  }
  double real = 0;
  if (!parse_real(raw, real) || !std::isfinite(real) || real != std::floor(real) ||
      std::fabs(real) >= 9.2e18)
    return false;
  value = static_cast<int64_t>(real);
  return true;
}

bool parse_unsigned(const std::string& raw, uint64_t& value) {
  const std::string text = without_underscores(raw);
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || errno != 0) return false;
  value = v;
  return true;
}

// YAML 1.1 booleans, as users write them in hand-edited configs.
bool parse_bool(const std::string& raw, bool& value) {
  std::string text = raw;
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (text == "true" || text == "yes" || text == "on") {
    value = true;
    return true;
  }
  if (text == "false" || text == "no" || text == "off") {
    value = false;
    return true;
  }
  return false;
}

std::string format_range(const RealRange& r) {
  return std::string(r.lo_open ? "(" : "[") + format_number(r.lo) + ", " + format_number(r.hi) +
         "]";
}

std::string format_range(const IntRange& r) {
  return "[" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
}

}  // namespace

int edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_distance = INT_MAX;
  for (const std::string& c : candidates) {
    const int distance = edit_distance(word, c);
    if (distance < best_distance) {
      best_distance = distance;
      best = c;
    }
  }
  return best;
}

std::string format_number(double value) {
  char buffer[64];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

// ---------------------------------------------------------------------------------------------
// ConfigSource

ConfigSource::ConfigSource(std::string origin) : origin_(std::move(origin)) {}

YAML::Node ConfigSource::parse(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    add_problem({e.mark.line + 1, "config '" + origin_ + "', line " +
                                      std::to_string(e.mark.line + 1)},
                "YAML syntax error: " + e.msg);
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!root.IsDefined() || root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    add_problem({1, "config '" + origin_ + "', line 1"},
                "the top level must be a map of keys (name:, scene:, data:, train:, ..., "
                "nodes:)");
    return YAML::Node(YAML::NodeType::Map);
  }
  record_key_lines(root, "");
  return root;
}

void ConfigSource::record_key_lines(const YAML::Node& node, const std::string& path) {
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) continue;  // reported by the reader as a bad key
    const std::string key = path.empty() ? entry.first.Scalar() : path + "." + entry.first.Scalar();
    const int line = entry.first.Mark().line + 1;
    const auto it = key_lines_.find(key);
    if (it != key_lines_.end()) {
      add_problem({line, "config '" + origin_ + "', line " + std::to_string(line)},
                  "duplicate key '" + key + "' (first on line " + std::to_string(it->second) +
                      ")");
      continue;
    }
    key_lines_[key] = line;
    if (entry.second.IsMap()) record_key_lines(entry.second, key);
  }
}

void ConfigSource::apply_override(YAML::Node& root, const std::string& text) {
  const Location here{INT_MAX, "--set " + text};
  const size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    add_problem(here, "expected key.path=value, e.g. --set train.iterations=500");
    return;
  }
  const std::string path = text.substr(0, equals);
  const std::string value_text = text.substr(equals + 1);
  std::vector<std::string> parts;
  for (size_t begin = 0;;) {
    const size_t dot = path.find('.', begin);
    parts.push_back(path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }
  for (const std::string& part : parts) {
    if (part.empty()) {
      add_problem(here, "empty name in key path '" + path + "'");
      return;
    }
  }

  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(value_text);  // not YAML on its own (e.g. "a: [b"): take it as text
  }

  // Walk down, creating absent sections; `reset` rebinds the handle (assignment would overwrite
  // the node it refers to).
  YAML::Node node = root;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i ? "." : "") + parts[i];
    YAML::Node child = node[parts[i]];
    if (!child.IsDefined() || child.IsNull()) {
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      child.reset(node[parts[i]]);
    } else if (!child.IsMap()) {
      add_problem(here, "'" + walked + "' is a value, not a section, so it has no key '" +
                            parts[i + 1] + "'");
      return;
    }
    node.reset(child);
  }
  node[parts.back()] = value;
  overrides_.emplace_back(path, text);
}

ConfigSource::Location ConfigSource::locate(const std::string& key_path) const {
  // An override that set this very key wins over the file line of the key it replaced.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it)
    if (it->first == key_path) return {INT_MAX, "--set " + it->second};
  const auto line = key_lines_.find(key_path);
  if (line != key_lines_.end())
    return {line->second, "config '" + origin_ + "', line " + std::to_string(line->second)};
  // A section that only exists because an override created it.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it)
    if (it->first.compare(0, key_path.size() + 1, key_path + ".") == 0)
      return {INT_MAX, "--set " + it->second};
  const size_t dot = key_path.rfind('.');
  if (dot != std::string::npos) return locate(key_path.substr(0, dot));
  return {0, "config '" + origin_ + "'"};
}

std::string ConfigSource::where(const std::string& key_path) const {
  return locate(key_path).text;
}

void ConfigSource::error(const std::string& key_path, const std::string& message) {
  add_problem(locate(key_path), message);
}

void ConfigSource::add_valid_key(const std::string& key_path) {
  valid_key_paths_.push_back(key_path);
}

void ConfigSource::add_unknown_key(const std::string& section_path, const std::string& key,
                                   const std::vector<std::string>& section_keys) {
  unknown_keys_.push_back({section_path, key, section_keys});
}

void ConfigSource::report_unknown_keys() {
  const auto join_path = [](const std::string& section, const std::string& key) {
    return section.empty() ? key : section + "." + key;
  };
  for (const UnknownKey& u : unknown_keys_) {
    const std::string path = join_path(u.section_path, u.key);
    std::string message = "unknown key '" + path + "'";
    const std::string guess = nearest(u.key, u.section_keys);
    const bool close = !guess.empty() &&
                       edit_distance(u.key, guess) <=
                           std::max<int>(2, static_cast<int>(u.key.size()) / 3);
    // The right name in the wrong section is a likelier mistake than a far-off local guess.
    std::string elsewhere;
    if (!close) {
      for (const std::string& valid : valid_key_paths_) {
        const size_t dot = valid.rfind('.');
        if (valid.compare(dot == std::string::npos ? 0 : dot + 1, std::string::npos, u.key) == 0) {
          elsewhere = valid;
          break;
        }
      }
    }
    if (!elsewhere.empty()) {
      message += "; did you mean '" + elsewhere + "'?";
    } else if (!guess.empty()) {
      message += "; did you mean '" + join_path(u.section_path, guess) + "'?";
      if (!close)  // a far guess alone does not help: list what the section accepts
        message += " (valid keys " +
                   (u.section_path.empty() ? std::string("at the top level")
                                           : "under '" + u.section_path + "'") +
                   ": " + join(u.section_keys, ", ") + ")";
    }
    error(path, message);
  }
  unknown_keys_.clear();
}

void ConfigSource::add_problem(Location location, const std::string& message) {
  problems_.push_back({location.line, problems_.size(), location.text + ": " + message});
}

void ConfigSource::throw_if_errors() const {
  if (problems_.empty()) return;
  std::vector<Problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  std::vector<std::string> lines;
  for (const Problem& p : sorted) lines.push_back(p.text);
  throw ConfigError(join(lines, "\n"), kHint);
}

// ---------------------------------------------------------------------------------------------
// SectionReader

SectionReader::SectionReader(ConfigSource& source, const YAML::Node& node, std::string path)
    : source_(&source), path_(std::move(path)) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    source_->error(path_, "'" + path_ + "' must be a section (indented key: value lines), got " +
                              describe(node));
    return;
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      source_->error(path_, "keys under '" + path_ + "' must be plain names");
      continue;
    }
    entries_.emplace_back(entry.first.Scalar(), entry.second);
  }
}

std::string SectionReader::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const YAML::Node* SectionReader::find(const char* key) {
  valid_keys_.emplace_back(key);
  source_->add_valid_key(key_path(key));
  for (const auto& entry : entries_)
    if (entry.first == key) return &entry.second;  // duplicates were reported by the parse
  return nullptr;
}

std::string SectionReader::describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a section";
  return "'" + node.Scalar() + "'";
}

void SectionReader::bad_value(const char* key, const std::string& expected,
                              const std::string& got) {
  source_->error(key_path(key), "'" + key_path(key) + "' must be " + expected + ", got " + got);
}

bool SectionReader::scalar(const char* key, const std::string& expected, std::string& text) {
  const YAML::Node* node = find(key);
  if (!node) return false;
  if (!node->IsScalar()) {
    bad_value(key, expected, describe(*node));
    return false;
  }
  text = node->Scalar();
  return true;
}

void SectionReader::field(const char* key, int& value, IntRange range) {
  int64_t wide = value;
  field(key, wide, range);
  value = static_cast<int>(wide);  // the range keeps it inside int
}

void SectionReader::field(const char* key, int64_t& value, IntRange range) {
  const std::string expected = "an integer in " + format_range(range);
  std::string text;
  if (!scalar(key, expected, text)) return;
  int64_t v = 0;
  if (!parse_integer(text, v) || v < range.lo || v > range.hi) {
    bad_value(key, expected, "'" + text + "'");
    return;
  }
  value = v;
}

void SectionReader::field(const char* key, uint64_t& value) {
  const std::string expected = "an integer in [0, 18446744073709551615]";
  std::string text;
  if (!scalar(key, expected, text)) return;
  if (!parse_unsigned(text, value)) bad_value(key, expected, "'" + text + "'");
}

void SectionReader::field(const char* key, double& value, RealRange range) {
  const std::string expected = "a number in " + format_range(range);
  std::string text;
  if (!scalar(key, expected, text)) return;
  double v = 0;
  // Written as !(in range) so NaN is refused too.
  if (!parse_real(text, v) || !((range.lo_open ? v > range.lo : v >= range.lo) && v <= range.hi)) {
    bad_value(key, expected, "'" + text + "'");
    return;
  }
  value = v;
}

void SectionReader::field(const char* key, bool& value) {
  const std::string expected = "true or false";
  std::string text;
  if (!scalar(key, expected, text)) return;
  if (!parse_bool(text, value)) bad_value(key, expected, "'" + text + "'");
}

void SectionReader::field(const char* key, std::string& value) {
  const YAML::Node* node = find(key);
  if (!node) return;
  if (node->IsNull()) {
    value.clear();
  } else if (node->IsScalar()) {
    value = node->Scalar();
  } else {
    bad_value(key, "text", describe(*node));
  }
}

void SectionReader::choice(const char* key, std::string& value,
                           const std::vector<std::string>& allowed) {
  read_choice(key, value, allowed);
}

bool SectionReader::read_choice(const char* key, std::string& value,
                                const std::vector<std::string>& allowed) {
  const std::string expected = "one of " + join(allowed, ", ");
  std::string text;
  if (!scalar(key, expected, text)) return false;
  if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    bad_value(key, expected,
              "'" + text + "' (did you mean '" + nearest(text, allowed) + "'?)");
    return false;
  }
  value = text;
  return true;
}

void SectionReader::finish() {
  for (const auto& entry : entries_)
    if (std::find(valid_keys_.begin(), valid_keys_.end(), entry.first) == valid_keys_.end())
      source_->add_unknown_key(path_, entry.first, valid_keys_);
}

}  // namespace gs::config_detail
