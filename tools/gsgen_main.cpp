// gsgen: writes a deterministic synthetic dataset rendered by the independent mesh renderer:
// NeRF-synthetic / D-NeRF layout for the object scenes, drivestudio's processed Waymo layout for
// the street scene; see docs/generated_scenes.md.
// Exit codes: 0 success, 1 runtime failure (cannot write the output), 2 usage error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "datasets/scene_generator.h"
#include "datasets/street_generator.h"

namespace {

constexpr const char* kUsage =
    "usage: gsgen --out DIR [options]\n"
    "\n"
    "Generates a textured scene, renders it with a CPU mesh renderer and writes it as a dataset.\n"
    "The same options always produce byte-identical files.\n"
    "  static, dynamic: a NeRF-synthetic style dataset: DIR/transforms_{train,test}.json,\n"
    "    DIR/{train,test}/r_N.png (RGBA, alpha = coverage) and DIR/points3d.ply.\n"
    "  street: a driving scene in drivestudio's processed Waymo layout (docs/street_format.md):\n"
    "    images/, ego_pose/, extrinsics/, intrinsics/, lidar/, sky_masks/, dynamic_masks/,\n"
    "    instances/ (a road, buildings, moving cars, walking people; ego cameras and LiDAR).\n"
    "\n"
    "  --out DIR            output directory (created if missing; earlier files are replaced)\n"
    "  --kind K             static (default) | dynamic (moving and deforming objects, D-NeRF\n"
    "                       style: each frame has a time in [0,1]) | street\n"
    "  --width W            image width in pixels (default 128; street 240)\n"
    "  --height H           image height in pixels (default 128; street 160)\n"
    "  --seed S             scene seed, a non-negative integer (default 1)\n"
    "  --supersample S      antialiasing samples per pixel axis: 1, 2 (default) or 4\n"
    "  --help               this text\n"
    "static and dynamic only:\n"
    "  --views N            training views (default 64)\n"
    "  --test-views N       held-out test views (default 8)\n"
    "  --black-background   RGB of transparent pixels black instead of white\n"
    "  --points N           initial points written to points3d.ply (default 4000)\n"
    "street only:\n"
    "  --size small|large   preset (default small: 3 cameras x 24 frames at 240x160, 32x512\n"
    "                       LiDAR rays; large: 60 frames at 960x640, 64x1024 rays); the options\n"
    "                       below override it\n"
    "  --frames N           frames at 10 Hz, 2..1000\n"
    "  --cameras LIST       Waymo camera ids, comma separated (default 0,1,2: front, front-left,\n"
    "                       front-right; 3 side-left, 4 side-right)\n"
    "  --vehicles N         other vehicles, 0..5 (default 4)\n"
    "  --people N           walking pedestrians, 0..3 (default 2)\n"
    "  --lidar-beams N      LiDAR rows over -17.6..+2.4 degrees (default 32)\n"
    "  --lidar-azimuths N   LiDAR columns over 360 degrees, a multiple of 8 (default 512)\n"
    "  --jpeg-quality Q     1..100 (default 95)\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error (cannot write the output), 2 usage error\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string out;
  std::string kind = "static";
  gs::GeneratedSceneOptions options;  // static and dynamic
  gs::StreetGeneratorOptions street;  // street
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
  if (v < -2147483647LL || v > 2147483647LL)
    throw UsageError(flag + " value " + value + " is out of range");
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

std::vector<int> parse_camera_list(const std::string& value) {
  std::vector<int> ids;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = std::min(value.find(',', start), value.size());
    ids.push_back(parse_int("--cameras", value.substr(start, comma - start)));
    start = comma + 1;
  }
  return ids;
}

// Options of one kind only; the shared ones (--out, --kind, --width, --height, --seed,
// --supersample) apply to every kind.
bool is_object_scene_flag(const std::string& f) {
  return f == "--views" || f == "--test-views" || f == "--black-background" || f == "--points";
}
bool is_street_flag(const std::string& f) {
  return f == "--size" || f == "--frames" || f == "--cameras" || f == "--vehicles" ||
         f == "--people" || f == "--lidar-beams" || f == "--lidar-azimuths" ||
         f == "--jpeg-quality";
}

// The street options: the --size preset first, then every explicit option over it, whatever
// the order on the command line.
gs::StreetGeneratorOptions street_options(
    const std::vector<std::pair<std::string, std::string>>& flags) {
  std::string size = "small";
  for (const auto& [flag, value] : flags)
    if (flag == "--size") size = value;
  if (size != "small" && size != "large")
    throw UsageError("--size must be small or large, got '" + size + "'");
  gs::StreetGeneratorOptions o = gs::street_generator_preset(size);
  const std::pair<const char*, int*> integers[] = {{"--frames", &o.frames},
                                                   {"--width", &o.width},
                                                   {"--height", &o.height},
                                                   {"--supersample", &o.supersample},
                                                   {"--vehicles", &o.vehicles},
                                                   {"--people", &o.people},
                                                   {"--lidar-beams", &o.lidar_beams},
                                                   {"--lidar-azimuths", &o.lidar_azimuths},
                                                   {"--jpeg-quality", &o.jpeg_quality}};
  for (const auto& [flag, value] : flags) {
    for (const auto& [name, field] : integers)
      if (flag == name) *field = parse_int(flag, value);
    if (flag == "--seed") o.seed = parse_seed(value);
    if (flag == "--cameras") o.cameras = parse_camera_list(value);
  }
  return o;
}

gs::GeneratedSceneOptions object_scene_options(
    const std::string& kind, const std::vector<std::pair<std::string, std::string>>& flags) {
  gs::GeneratedSceneOptions o;
  o.kind = kind;
  const std::pair<const char*, int*> integers[] = {
      {"--views", &o.views},   {"--test-views", &o.test_views},   {"--width", &o.width},
      {"--height", &o.height}, {"--supersample", &o.supersample}, {"--points", &o.points}};
  for (const auto& [flag, value] : flags) {
    for (const auto& [name, field] : integers)
      if (flag == name) *field = parse_int(flag, value);
    if (flag == "--seed") o.seed = parse_seed(value);
    if (flag == "--black-background") o.white_background = false;
  }
  return o;
}

Args parse_args(int argc, char** argv) {
  Args a;
  std::vector<std::pair<std::string, std::string>> flags;  // in command-line order
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
      a.kind = value();
      if (a.kind != "static" && a.kind != "dynamic" && a.kind != "street")
        throw UsageError("--kind must be static, dynamic or street, got '" + a.kind + "'");
    } else if (flag == "--black-background") {
      flags.emplace_back(flag, "");
    } else if (flag == "--width" || flag == "--height" || flag == "--seed" ||
               flag == "--supersample" || is_object_scene_flag(flag) || is_street_flag(flag)) {
      flags.emplace_back(flag, value());
    } else {
      throw UsageError("unknown argument '" + flag + "'");
    }
  }
  if (a.help) return a;
  const bool street = a.kind == "street";
  for (const auto& f : flags) {
    if (street && is_object_scene_flag(f.first))
      throw UsageError(f.first + " is not an option of --kind street");
    if (!street && is_street_flag(f.first))
      throw UsageError(f.first + " is an option of --kind street only");
  }
  if (a.out.empty()) throw UsageError("--out DIR is required");
  try {
    if (street) {
      a.street = street_options(flags);
      gs::validate_street_generator_options(a.street);
    } else {
      a.options = object_scene_options(a.kind, flags);
      gs::validate_generated_scene_options(a.options);
    }
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
    auto elapsed = [&start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (a.kind == "street") {
      const gs::StreetGeneratorOptions& o = a.street;
      gs::generate_street_scene(a.out, o);
      std::printf(
          "gsgen: wrote street scene (%s: %d frames x %zu cameras, %dx%d, %dx%d LiDAR "
          "rays) to %s in %.2f s\n",
          o.size.c_str(), o.frames, o.cameras.size(), o.width, o.height, o.lidar_beams,
          o.lidar_azimuths, a.out.c_str(), elapsed());
      return 0;
    }
    gs::generate_scene(a.out, a.options);
    std::printf("gsgen: wrote %s scene (%d train + %d test views, %dx%d) to %s in %.2f s\n",
                a.options.kind.c_str(), a.options.views, a.options.test_views, a.options.width,
                a.options.height, a.out.c_str(), elapsed());
    return 0;
  } catch (const gs::Error& e) {
    print_error(e.what(), e.hint());
  } catch (const std::exception& e) {
    print_error(e.what(), "");
  }
  return 1;
}
