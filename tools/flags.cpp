// The shared command-line flag parser (see flags.h).
#include "tools/flags.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>

#include "config/config_reader.h"

namespace gs::tools {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

template <typename T>
std::string to_text(T x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

// "an integer in 0..3", or "an integer >= 1" when the range is open above. An end at the type's
// own limit is left out, so the message never shows 18446744073709551615; an unsigned range
// keeps its 0 ("an integer >= 0" says more than "an integer").
template <typename T>
std::string accepted(const char* what, T lo, T hi) {
  const bool open_below = std::is_signed_v<T> && lo <= std::numeric_limits<T>::lowest();
  const bool open_above = hi >= std::numeric_limits<T>::max();
  std::string text = what;
  if (open_below && open_above) return text;
  if (open_above) return text + " >= " + to_text(lo);
  if (open_below) return text + " <= " + to_text(hi);
  return text + " in " + to_text(lo) + ".." + to_text(hi);
}

// Reads all of `text` as a T with from_chars, which (unlike strtol/stod) takes no leading
// spaces or '+', so "--views ' 5'" is refused rather than silently trimmed.
template <typename T>
T parse_whole(const std::string& flag, const std::string& text, T lo, T hi, const char* what) {
  T x{};
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, x);
  const bool read = ec == std::errc() && stop == end;
  bool in_range = read && x >= lo && x <= hi;
  if constexpr (std::is_floating_point_v<T>) in_range = in_range && std::isfinite(x);
  if (!in_range) throw UsageError(flag + " '" + text + "': expected " + accepted(what, lo, hi));
  return x;
}

// "unknown argument '--veiws' (did you mean --views?)", the guess only when it is close.
std::string unknown_flag_message(const std::string& name, const std::vector<FlagSpec>& specs) {
  std::vector<std::string> names;
  for (const FlagSpec& s : specs) names.push_back(s.name);
  std::string message = "unknown argument '" + name + "'";
  const std::string guess = config_detail::nearest(name, names);
  const int close_enough = std::max<int>(2, static_cast<int>(name.size()) / 3);
  if (!guess.empty() && config_detail::edit_distance(name, guess) <= close_enough)
    message += " (did you mean " + guess + "?)";
  return message;
}

}  // namespace

Flags::Flags(int argc, const char* const* argv, std::vector<FlagSpec> specs)
    : specs_(std::move(specs)) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (!starts_with(specs_[i].name, "--"))
      throw std::logic_error("Flags: '" + specs_[i].name + "' must start with --");
    for (size_t j = 0; j < i; ++j)
      if (specs_[j].name == specs_[i].name)
        throw std::logic_error("Flags: " + specs_[i].name + " is declared twice");
  }
  const bool declares_help = std::any_of(specs_.begin(), specs_.end(),
                                         [](const FlagSpec& s) { return s.name == "--help"; });
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "-h" && declares_help) name = "--help";
    if (name.size() < 2 || name[0] != '-') throw UsageError("unexpected argument '" + name + "'");
    std::string value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const auto it = std::find_if(specs_.begin(), specs_.end(),
                                 [&](const FlagSpec& s) { return s.name == name; });
    if (it == specs_.end()) throw UsageError(unknown_flag_message(name, specs_));
    if (given_.count(name) && !it->repeatable) throw UsageError(name + " is given twice");
    if (it->takes_value && !inline_value) {
      if (i + 1 >= argc || starts_with(argv[i + 1], "--"))
        throw UsageError(name + " needs a value");
      value = argv[++i];
    } else if (!it->takes_value && inline_value) {
      throw UsageError(name + " takes no value");
    }
    given_[name].push_back(value);
  }
}

const FlagSpec& Flags::spec(const std::string& name) const {
  for (const FlagSpec& s : specs_)
    if (s.name == name) return s;
  throw std::logic_error("Flags: " + name + " is not one of this tool's flags");
}

bool Flags::has(const std::string& name) const {
  spec(name);
  return given_.count(name) > 0;
}

std::string Flags::value(const std::string& name, const std::string& fallback) const {
  const std::vector<std::string>& all = values(name);
  return all.empty() ? fallback : all.back();
}

std::string Flags::required(const std::string& name) const {
  if (!has(name)) throw UsageError("missing " + name);
  const std::string v = value(name);
  if (v.empty()) throw UsageError(name + " is empty");
  return v;
}

const std::vector<std::string>& Flags::values(const std::string& name) const {
  static const std::vector<std::string> kNone;
  spec(name);
  const auto it = given_.find(name);
  return it == given_.end() ? kNone : it->second;
}

int Flags::integer(const std::string& name, int lo, int hi, int fallback) const {
  return has(name) ? parse_whole<int>(name, value(name), lo, hi, "an integer") : fallback;
}

double Flags::number(const std::string& name, double lo, double hi, double fallback) const {
  return has(name) ? parse_number(name, value(name), lo, hi) : fallback;
}

uint64_t Flags::uint64(const std::string& name, uint64_t lo, uint64_t hi, uint64_t fallback) const {
  return has(name) ? parse_uint64(name, value(name), lo, hi) : fallback;
}

long long parse_integer(const std::string& flag, const std::string& text, long long lo,
                        long long hi) {
  return parse_whole<long long>(flag, text, lo, hi, "an integer");
}

double parse_number(const std::string& flag, const std::string& text, double lo, double hi) {
  return parse_whole<double>(flag, text, lo, hi, "a number");
}

uint64_t parse_uint64(const std::string& flag, const std::string& text, uint64_t lo, uint64_t hi) {
  return parse_whole<uint64_t>(flag, text, lo, hi, "an integer");
}

}  // namespace gs::tools
