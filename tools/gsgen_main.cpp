// gsgen: writes a deterministic synthetic dataset (NeRF-synthetic / D-NeRF layout) rendered by
// the independent mesh renderer; see docs/generated_scenes.md.
// Exit codes: 0 success, 1 runtime failure (cannot write the output), 2 usage error.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "datasets/scene_generator.h"

namespace {

constexpr const char* kUsage =
    "usage: gsgen --out DIR [options]\n"
    "\n"
    "Generates a small textured scene, renders it with a CPU mesh renderer and writes it as a\n"
    "NeRF-synthetic style dataset: DIR/transforms_{train,test}.json, DIR/{train,test}/r_N.png\n"
    "(RGBA, alpha = coverage) and DIR/points3d.ply (initial points). The same options always\n"
    "produce byte-identical files.\n"
    "\n"
    "  --out DIR            output directory (created if missing; earlier files are replaced)\n"
    "  --kind K             static (default) | dynamic (moving and deforming objects, D-NeRF\n"
    "                       style: each frame has a time in [0,1])\n"
    "  --views N            training views (default 64)\n"
    "  --test-views N       held-out test views (default 8)\n"
    "  --width W            image width in pixels (default 128)\n"
    "  --height H           image height in pixels (default 128)\n"
    "  --seed S             scene, camera and point seed, a non-negative integer (default 1)\n"
    "  --black-background   RGB of transparent pixels black instead of white\n"
    "  --supersample S      antialiasing samples per pixel axis: 1, 2 (default) or 4\n"
    "  --points N           initial points written to points3d.ply (default 4000)\n"
    "  --help               this text\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error (cannot write the output), 2 usage error\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string out;
  gs::GeneratedSceneOptions options;
  bool help = false;
};

long long parse_integer(const std::string& flag, const std::string& value) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size())
    throw UsageError(flag + " expects an integer, got '" + value + "'");
  return v;
}

int parse_int(const std::string& flag, const std::string& value) {
  const long long v = parse_integer(flag, value);
  if (v < -2147483647LL || v > 2147483647LL) throw UsageError(flag + " value " + value + " is out of range");
  return static_cast<int>(v);
}

uint64_t parse_seed(const std::string& value) {
  size_t used = 0;
  unsigned long long v = 0;
  try {
    if (!value.empty() && value[0] != '-' && value[0] != '+') v = std::stoull(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size())
    throw UsageError("--seed expects a non-negative integer, got '" + value + "'");
  return static_cast<uint64_t>(v);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      a.help = true;
    } else if (flag == "--out") {
      a.out = value();
    } else if (flag == "--kind") {
      a.options.kind = value();
      if (a.options.kind != "static" && a.options.kind != "dynamic")
        throw UsageError("--kind must be static or dynamic, got '" + a.options.kind + "'");
    } else if (flag == "--views") {
      a.options.views = parse_int(flag, value());
    } else if (flag == "--test-views") {
      a.options.test_views = parse_int(flag, value());
    } else if (flag == "--width") {
      a.options.width = parse_int(flag, value());
    } else if (flag == "--height") {
      a.options.height = parse_int(flag, value());
    } else if (flag == "--seed") {
      a.options.seed = parse_seed(value());
    } else if (flag == "--black-background") {
      a.options.white_background = false;
    } else if (flag == "--supersample") {
      a.options.supersample = parse_int(flag, value());
    } else if (flag == "--points") {
      a.options.points = parse_int(flag, value());
    } else {
      throw UsageError("unknown argument '" + flag + "'");
    }
  }
  if (a.help) return a;
  if (a.out.empty()) throw UsageError("--out DIR is required");
  try {
    gs::validate_generated_scene_options(a.options);
  } catch (const gs::ConfigError& e) {
    throw UsageError(e.what());
  }
  return a;
}

void print_error(const char* what, const std::string& hint) {
  std::fprintf(stderr, "gsgen: error: %s\n", what);
  if (!hint.empty()) std::fprintf(stderr, "  hint: %s\n", hint.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  try {
    a = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "gsgen: %s\n\n%s", e.what(), kUsage);
    return 2;
  }
  if (a.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    gs::generate_scene(a.out, a.options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("gsgen: wrote %s scene (%d train + %d test views, %dx%d) to %s in %.2f s\n",
                a.options.kind.c_str(), a.options.views, a.options.test_views, a.options.width,
                a.options.height, a.out.c_str(), seconds);
    return 0;
  } catch (const gs::Error& e) {
    print_error(e.what(), e.hint());
  } catch (const std::exception& e) {
    print_error(e.what(), "");
  }
  return 1;
}
