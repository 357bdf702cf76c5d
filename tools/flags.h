// The command-line flag parser every tool in tools/ shares, so they all accept the same syntax
// (`--flag value` and `--flag=value`) and refuse the same mistakes with the same messages.
//
//   const gs::tools::Flags flags(argc, argv, {{"--ply", true}, {"--set", true, true},
//                                             {"--antialias"}, {"--help"}});
//   if (flags.has("--help")) ...
//   const int degree = flags.integer("--sh-degree", 0, 3, -1);
//
// Every mistake in what the user typed throws UsageError (tools print it with their usage text
// and exit 2); asking for a flag the tool never declared is a bug in the tool and throws
// std::logic_error.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gs::tools {

// A mistake on the command line: the message names the flag and what it accepts.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string name;          // with its dashes: "--ply"
  bool takes_value = false;  // false: a switch, present or not
  bool repeatable = false;   // may be given more than once (values() returns them in order)
};

class Flags {
 public:
  // Parses argv[1..argc-1]. "-h" stands for "--help" when the tool declares --help. A value that
  // starts with "--" must be written --flag=--value: in the separate form it is read as the
  // next flag, so `--out --views 3` says --out needs a value instead of writing to "--views".
  Flags(int argc, const char* const* argv, std::vector<FlagSpec> specs);

  bool has(const std::string& name) const;

  // The flag's value (its last one if repeatable), or `fallback` when it was not given.
  std::string value(const std::string& name, const std::string& fallback = "") const;
  // The flag's value; UsageError when it is missing or empty.
  std::string required(const std::string& name) const;
  // Every value of the flag in command-line order; empty when it was not given.
  const std::vector<std::string>& values(const std::string& name) const;

  // The value read as a number in [lo, hi], or `fallback` when the flag was not given.
  int integer(const std::string& name, int lo, int hi, int fallback) const;
  double number(const std::string& name, double lo, double hi, double fallback) const;
  uint64_t uint64(const std::string& name, uint64_t lo, uint64_t hi, uint64_t fallback) const;

 private:
  const FlagSpec& spec(const std::string& name) const;

  std::vector<FlagSpec> specs_;
  std::map<std::string, std::vector<std::string>> given_;  // name -> values ("" for switches)
};

// The readers behind Flags::integer/number/uint64, for values a tool splits itself (a comma
// list). `flag` only names the source in the error message. The whole text must be the number:
// no spaces, no '+', no trailing characters; numbers must be finite.
long long parse_integer(const std::string& flag, const std::string& text, long long lo,
                        long long hi);
double parse_number(const std::string& flag, const std::string& text, double lo, double hi);
uint64_t parse_uint64(const std::string& flag, const std::string& text, uint64_t lo, uint64_t hi);

}  // namespace gs::tools
