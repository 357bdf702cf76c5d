// The shared flag parser of tools/: both value syntaxes, repeatable flags, ranges, and every
// mistake it refuses with a message that names the flag.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tools/device_flag.h"
#include "tools/flags.h"

using gs::tools::Flags;
using gs::tools::FlagSpec;
using gs::tools::UsageError;
using Catch::Contains;

namespace {

// A tool with a bit of everything: values, a repeatable value, switches and --help.
const std::vector<FlagSpec> kSpecs = {
    {"--ply", true},       {"--views", true},  {"--scale", true}, {"--seed", true},
    {"--set", true, true}, {"--device", true}, {"--antialias"},   {"--help"}};

// Parses `args` as a command line of the tool above (argv[0] added).
Flags parse(std::vector<const char*> args) {
  args.insert(args.begin(), "tool");
  return Flags(static_cast<int>(args.size()), args.data(), kSpecs);
}

// The message of the UsageError that parsing `args` throws ("" when it does not throw).
std::string usage_error(const std::vector<const char*>& args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("flags: both value syntaxes, switches and fallbacks", "[flags]") {
  const Flags f = parse({"--ply", "a.ply", "--views=12", "--antialias"});
  CHECK(f.has("--ply"));
  CHECK(f.value("--ply") == "a.ply");
  CHECK(f.integer("--views", 1, 100, 64) == 12);
  CHECK(f.has("--antialias"));
  CHECK_FALSE(f.has("--help"));
  CHECK(f.value("--device", "auto") == "auto");
  CHECK(f.integer("--seed", 0, 9, 7) == 7);
  CHECK(f.number("--scale", 0, 1, 0.5) == 0.5);
  CHECK(f.values("--set").empty());
  // The inline form keeps everything after the first '=', and may be empty or start with --.
  CHECK(parse({"--ply=x=y.ply"}).value("--ply") == "x=y.ply");
  CHECK(parse({"--ply="}).value("--ply", "fallback").empty());
  CHECK(parse({"--ply=--odd"}).value("--ply") == "--odd");
  // A single dash is a value, as are negative numbers.
  CHECK(parse({"--ply", "-"}).value("--ply") == "-");
  CHECK(parse({"--views", "-3"}).integer("--views", -5, 5, 0) == -3);
}

TEST_CASE("flags: -h stands for --help", "[flags]") {
  CHECK(parse({"-h"}).has("--help"));
  const char* argv[] = {"tool", "-h"};
  CHECK_THROWS_WITH(Flags(2, argv, {{"--ply", true}}), Contains("unknown argument '-h'"));
}

TEST_CASE("flags: repeatable flags keep every value in order", "[flags]") {
  const Flags f = parse({"--set", "a=1", "--set=b=2", "--set", "c=3"});
  CHECK(f.values("--set") == std::vector<std::string>{"a=1", "b=2", "c=3"});
  CHECK(f.value("--set") == "c=3");
}

TEST_CASE("flags: each command-line mistake is a UsageError naming it", "[flags]") {
  SECTION("unknown flag, with the nearest known one when close") {
    CHECK(usage_error({"--veiws", "3"}) == "unknown argument '--veiws' (did you mean --views?)");
    CHECK(usage_error({"-ply", "a"}) == "unknown argument '-ply' (did you mean --ply?)");
    CHECK(usage_error({"--frobnicate"}) == "unknown argument '--frobnicate'");
  }
  SECTION("a flag given twice, in either syntax") {
    CHECK(usage_error({"--ply", "a", "--ply=b"}) == "--ply is given twice");
    CHECK(usage_error({"--antialias", "--antialias"}) == "--antialias is given twice");
  }
  SECTION("a missing value") {
    CHECK(usage_error({"--ply"}) == "--ply needs a value");
    CHECK(usage_error({"--ply", "--antialias"}) == "--ply needs a value");
  }
  SECTION("a value given to a switch") {
    CHECK(usage_error({"--antialias=1"}) == "--antialias takes no value");
    CHECK(usage_error({"--help="}) == "--help takes no value");
  }
  SECTION("a stray positional argument") {
    CHECK(usage_error({"--ply", "a", "b"}) == "unexpected argument 'b'");
    CHECK(usage_error({"-"}) == "unexpected argument '-'");
    CHECK(usage_error({""}) == "unexpected argument ''");
  }
}

TEST_CASE("flags: required values", "[flags]") {
  CHECK(parse({"--ply", "a.ply"}).required("--ply") == "a.ply");
  CHECK_THROWS_WITH(parse({}).required("--ply"), "missing --ply");
  CHECK_THROWS_WITH(parse({"--ply="}).required("--ply"), "--ply is empty");
}

TEST_CASE("flags: numbers are whole, in range, and errors give the range", "[flags]") {
  CHECK(parse({"--views=0"}).integer("--views", 0, 3, 9) == 0);
  CHECK(parse({"--views=3"}).integer("--views", 0, 3, 9) == 3);
  CHECK_THROWS_WITH(parse({"--views=4"}).integer("--views", 0, 3, 9),
                    "--views '4': expected an integer in 0..3");
  for (const char* bad : {"x", "", "1.5", "2x", " 2", "+2", "99999999999999999999"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_AS(parse({"--views", bad}).integer("--views", 0, 3, 9), UsageError);
  }
  // Ranges open at a type limit read as such, not as a 20-digit number.
  const int int_max = std::numeric_limits<int>::max();
  CHECK_THROWS_WITH(parse({"--views=0"}).integer("--views", 1, int_max, 5),
                    "--views '0': expected an integer >= 1");

  CHECK(parse({"--scale=0.25"}).number("--scale", 0, 1, 0) == 0.25);
  CHECK(parse({"--scale=1e-3"}).number("--scale", 0, 1, 0) == 0.001);
  CHECK_THROWS_WITH(parse({"--scale=1.5"}).number("--scale", 0, 1, 0),
                    "--scale '1.5': expected a number in 0..1");
  for (const char* bad : {"nan", "inf", "-inf", "0.5.5", "half"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_AS(parse({"--scale", bad}).number("--scale", -1e300, 1e300, 0), UsageError);
  }

  const uint64_t u64_max = std::numeric_limits<uint64_t>::max();
  CHECK(parse({"--seed=18446744073709551615"}).uint64("--seed", 0, u64_max, 1) == u64_max);
  CHECK(parse({}).uint64("--seed", 0, u64_max, 1) == 1);
  CHECK_THROWS_WITH(parse({"--seed=-1"}).uint64("--seed", 0, u64_max, 1),
                    "--seed '-1': expected an integer >= 0");
  CHECK_THROWS_WITH(parse({"--seed=11"}).uint64("--seed", 0, 10, 1),
                    "--seed '11': expected an integer in 0..10");
}

TEST_CASE("flags: the free readers for values a tool splits itself", "[flags]") {
  CHECK(gs::tools::parse_integer("--gaussians", "5000", 1, 10000) == 5000);
  CHECK_THROWS_WITH(gs::tools::parse_integer("--gaussians", "0", 1, 10000),
                    "--gaussians '0': expected an integer in 1..10000");
  CHECK(gs::tools::parse_number("--background", "0.5", 0, 1) == 0.5);
  CHECK(gs::tools::parse_uint64("--seed", "7", 0, 9) == 7);
}

TEST_CASE("flags: a tool asking for a flag it never declared is a bug, not a usage error",
          "[flags]") {
  const Flags f = parse({});
  CHECK_THROWS_AS(f.has("--nope"), std::logic_error);
  CHECK_THROWS_AS(f.value("--nope"), std::logic_error);
  const char* argv[] = {"tool"};
  CHECK_THROWS_AS(Flags(1, argv, {{"--a"}, {"--a", true}}), std::logic_error);
  CHECK_THROWS_AS(Flags(1, argv, {{"a"}}), std::logic_error);
}

TEST_CASE("flags: --device accepts auto, cpu, cuda and cuda:N only", "[flags]") {
  CHECK(gs::tools::device_flag(parse({})) == "auto");
  for (const char* good : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"})
    CHECK(gs::tools::device_flag(parse({"--device", good})) == good);
  for (const char* bad : {"tpu", "cuda:", "cuda:x", "CPU", ""}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_WITH(gs::tools::device_flag(parse({"--device", bad})),
                      Contains("expected auto, cpu, cuda or cuda:N"));
  }
}
