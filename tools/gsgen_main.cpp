// gsgen: writes a deterministic synthetic dataset rendered by the independent mesh renderer:
// NeRF-synthetic / D-NeRF layout for the object scenes, drivestudio's processed Waymo layout for
// the street scene; see docs/generated_scenes.md.
// Exit codes: 0 success, 1 runtime failure (cannot write the output), 2 usage error.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"
#include "datasets/scene_generator.h"
#include "datasets/street_generator.h"
#include "tools/flags.h"

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
    "  --people N           walking pedestrians, 0..3 (default 3)\n"
    "  --unposed-people N   of them, the last N get no humanpose/ entry (default 1)\n"
    "  --lidar-beams N      LiDAR rows over -17.6..+2.4 degrees (default 32)\n"
    "  --lidar-azimuths N   LiDAR columns over 360 degrees, a multiple of 8 (default 512)\n"
    "  --jpeg-quality Q     1..100 (default 95)\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error (cannot write the output), 2 usage error\n";

using gs::tools::Flags;
using gs::tools::UsageError;

struct Args {
  std::string out;
  std::string kind = "static";
  gs::GeneratedSceneOptions options;  // static and dynamic
  gs::StreetGeneratorOptions street;  // street
  bool help = false;
};

// Options of one kind only; the shared ones (--out, --kind, --width, --height, --seed,
// --supersample) apply to every kind.
const char* const kObjectSceneFlags[] = {"--views", "--test-views", "--black-background",
                                         "--points"};
const char* const kStreetFlags[] = {"--size",           "--frames",       "--cameras",
                                    "--vehicles",       "--people",       "--unposed-people",
                                    "--lidar-beams",    "--lidar-azimuths", "--jpeg-quality"};

// The integer options take any int here: their ranges are checked (with the option's own
// message) by validate_generated_scene_options and validate_street_generator_options.
int integer_flag(const Flags& flags, const char* name, int fallback) {
  return flags.integer(name, std::numeric_limits<int>::lowest(), std::numeric_limits<int>::max(),
                       fallback);
}

uint64_t seed_flag(const Flags& flags, uint64_t fallback) {
  return flags.uint64("--seed", 0, std::numeric_limits<uint64_t>::max(), fallback);
}

// "0,1,2" -> {0, 1, 2}; the message quotes the whole list so the bad item is in context.
std::vector<int> parse_camera_list(const std::string& list) {
  std::vector<int> ids;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    try {
      ids.push_back(static_cast<int>(gs::tools::parse_integer(
          "--cameras", item, std::numeric_limits<int>::lowest(), std::numeric_limits<int>::max())));
    } catch (const UsageError&) {
      throw UsageError("--cameras '" + list + "': '" + item +
                       "' is not an integer (expected comma-separated camera ids)");
    }
    start = comma + 1;
  }
  return ids;
}

// The street options: the --size preset first, then every explicit option over it, whatever
// the order on the command line.
gs::StreetGeneratorOptions street_options(const Flags& flags) {
  const std::string size = flags.value("--size", "small");
  if (size != "small" && size != "large")
    throw UsageError("--size must be small or large, got '" + size + "'");
  gs::StreetGeneratorOptions o = gs::street_generator_preset(size);
  o.frames = integer_flag(flags, "--frames", o.frames);
  o.width = integer_flag(flags, "--width", o.width);
  o.height = integer_flag(flags, "--height", o.height);
  o.supersample = integer_flag(flags, "--supersample", o.supersample);
  o.vehicles = integer_flag(flags, "--vehicles", o.vehicles);
  o.people = integer_flag(flags, "--people", o.people);
  o.unposed_people = integer_flag(flags, "--unposed-people", std::min(o.unposed_people, o.people));
  o.lidar_beams = integer_flag(flags, "--lidar-beams", o.lidar_beams);
  o.lidar_azimuths = integer_flag(flags, "--lidar-azimuths", o.lidar_azimuths);
  o.jpeg_quality = integer_flag(flags, "--jpeg-quality", o.jpeg_quality);
  o.seed = seed_flag(flags, o.seed);
  if (flags.has("--cameras")) o.cameras = parse_camera_list(flags.value("--cameras"));
  return o;
}

gs::GeneratedSceneOptions object_scene_options(const std::string& kind, const Flags& flags) {
  gs::GeneratedSceneOptions o;
  o.kind = kind;
  o.views = integer_flag(flags, "--views", o.views);
  o.test_views = integer_flag(flags, "--test-views", o.test_views);
  o.width = integer_flag(flags, "--width", o.width);
  o.height = integer_flag(flags, "--height", o.height);
  o.supersample = integer_flag(flags, "--supersample", o.supersample);
  o.points = integer_flag(flags, "--points", o.points);
  o.seed = seed_flag(flags, o.seed);
  if (flags.has("--black-background")) o.white_background = false;
  return o;
}

Args parse_args(int argc, char** argv) {
  const Flags flags(argc, argv,
                    {{"--out", true},
                     {"--kind", true},
                     {"--width", true},
                     {"--height", true},
                     {"--seed", true},
                     {"--supersample", true},
                     {"--views", true},
                     {"--test-views", true},
                     {"--black-background"},
                     {"--points", true},
                     {"--size", true},
                     {"--frames", true},
                     {"--cameras", true},
                     {"--vehicles", true},
                     {"--people", true},
                     {"--unposed-people", true},
                     {"--lidar-beams", true},
                     {"--lidar-azimuths", true},
                     {"--jpeg-quality", true},
                     {"--help"}});
  Args a;
  a.help = flags.has("--help");
  if (a.help) return a;
  a.kind = flags.value("--kind", a.kind);
  if (a.kind != "static" && a.kind != "dynamic" && a.kind != "street")
    throw UsageError("--kind must be static, dynamic or street, got '" + a.kind + "'");
  const bool street = a.kind == "street";
  if (street) {
    for (const char* f : kObjectSceneFlags)
      if (flags.has(f)) throw UsageError(std::string(f) + " is not an option of --kind street");
  } else {
    for (const char* f : kStreetFlags)
      if (flags.has(f)) throw UsageError(std::string(f) + " is an option of --kind street only");
  }
  a.out = flags.required("--out");
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
