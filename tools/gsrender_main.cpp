// gsrender: renders a 3DGS PLY from the cameras of a JSON file to one PNG per camera.
// Exit codes: 0 success, 1 runtime failure (unreadable/malformed input, device, memory),
// 2 usage error (unknown flag, missing or bad flag value).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/camera.h"
#include "core/device.h"
#include "core/errors.h"
#include "datasets/cameras_json.h"
#include "datasets/image_io.h"
#include "formats/ply_io.h"
#include "rasterizer/rasterize.h"
#include "scene/gaussian_cloud.h"
#include "scene/gaussian_node.h"
#include "scene/render_set.h"
#include "tools/device_flag.h"
#include "tools/flags.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "usage: gsrender --ply FILE --cameras FILE.json --out DIR [options]\n"
    "\n"
    "Renders the Gaussians of a 3DGS PLY file (INRIA layout) from every camera of a cameras\n"
    "JSON file (schema: datasets/cameras_json.h) and writes DIR/<camera name>.png.\n"
    "\n"
    "  --ply FILE          Gaussians to render (binary or ASCII PLY)\n"
    "  --cameras FILE      cameras JSON: {\"cameras\": [{name, width, height, fx, fy, cx, cy,\n"
    "                      world_to_camera}]} in OpenCV axes\n"
    "  --out DIR           output directory (created if missing)\n"
    "  --device D          auto (default: CUDA if usable, else CPU) | cpu | cuda | cuda:N\n"
    "  --background R,G,B  background colour in [0,1] (default 0,0,0), or black | white\n"
    "  --antialias         antialiased opacity compensation (for PLYs trained with it)\n"
    "  --sh-degree D       use SH up to degree D (0..3; default: all the file has)\n"
    "  --help              this text\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error (bad input file, device, memory), 2 usage error\n";

using gs::tools::Flags;
using gs::tools::UsageError;

struct Options {
  std::string ply, cameras, out, device = "auto";
  float background[3] = {0, 0, 0};
  bool antialias = false;
  int sh_degree = -1;  // -1: the file's degree
  bool help = false;
};

// "black", "white" or R,G,B; the message quotes the whole value so the bad part is in context.
void parse_background(const std::string& v, float out[3]) {
  if (v == "black" || v == "white") {
    out[0] = out[1] = out[2] = v == "white" ? 1.f : 0.f;
    return;
  }
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t comma = v.find(',', start);
    if ((i < 2) != (comma != std::string::npos))
      throw UsageError("--background '" + v + "': expected three numbers R,G,B in [0,1]");
    const std::string part = v.substr(start, i < 2 ? comma - start : std::string::npos);
    try {
      out[i] = static_cast<float>(gs::tools::parse_number("--background", part, 0, 1));
    } catch (const UsageError&) {
      throw UsageError("--background '" + v + "': '" + part + "' is not a number in [0,1]");
    }
    start = comma + 1;
  }
}

Options parse_args(int argc, char** argv) {
  const Flags flags(argc, argv,
                    {{"--ply", true}, {"--cameras", true}, {"--out", true}, {"--device", true},
                     {"--background", true}, {"--sh-degree", true}, {"--antialias"}, {"--help"}});
  Options o;
  o.help = flags.has("--help");
  if (o.help) return o;
  o.ply = flags.required("--ply");
  o.cameras = flags.required("--cameras");
  o.out = flags.required("--out");
  o.device = gs::tools::device_flag(flags);
  if (flags.has("--background")) parse_background(flags.value("--background"), o.background);
  o.antialias = flags.has("--antialias");
  o.sh_degree = flags.integer("--sh-degree", 0, 3, o.sh_degree);
  return o;
}

int run(const Options& o) {
  const gs::Device device = gs::resolve_device(o.device);
  // Read and check every input before creating any output.
  const gs::GaussianCloud cloud = gs::read_ply(o.ply);
  const std::vector<gs::Camera> cameras = gs::read_cameras_json(o.cameras);
  const int active = o.sh_degree < 0 ? cloud.sh_degree : std::min(o.sh_degree, cloud.sh_degree);
  if (o.sh_degree > cloud.sh_degree)
    std::printf("note: --sh-degree %d asked, but %s has SH degree %d; using %d\n", o.sh_degree,
                o.ply.c_str(), cloud.sh_degree, active);

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out))
    throw gs::IoError(o.out + ": cannot create the output directory" +
                          (ec ? ": " + ec.message() : std::string()),
                      "choose an --out directory you can write to");

  // The PLY as a render-only static node in a render set: the views go through render_frame,
  // the function training and evaluation render with.
  const gs::Config config;
  gs::NodeConfig node_config;
  node_config.name = fs::path(o.ply).stem().string();
  node_config.kind = gs::NodeKind::background;
  gs::NodeSetup setup;
  setup.config = &config;
  setup.node = &node_config;
  setup.device = device;
  setup.sh_degree = cloud.sh_degree;
  setup.capacity = cloud.size();
  setup.trainable = false;
  gs::GaussianNode node(setup);
  node.model().load_cloud(cloud);
  gs::RenderSet set(device, {&node});
  gs::RasterSettings settings;
  for (int i = 0; i < 3; ++i) settings.background[i] = o.background[i];
  settings.antialias = o.antialias;

  std::printf("gsrender: %zu Gaussians (SH degree %d, using %d) from %s on %s, %zu camera%s\n",
              node.count(), cloud.sh_degree, active, o.ply.c_str(), device.name().c_str(),
              cameras.size(), cameras.size() == 1 ? "" : "s");
  for (const gs::Camera& cam : cameras) {
    gs::synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    gs::FrameContext frame;
    frame.camera = &cam;
    frame.active_sh_degree = active;
    const gs::RasterForward fwd = gs::render_frame(set, frame, settings);
    gs::synchronize(device);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const std::vector<float> rgb = fwd.rgb.to_host();
    const std::string path = (fs::path(o.out) / (cam.name + ".png")).string();
    gs::write_png(path, rgb.data(), cam.width, cam.height, 3);
    std::printf("  %-24s %5dx%-5d visible %zu, tile instances %zu, %.1f ms -> %s\n",
                cam.name.c_str(), cam.width, cam.height, fwd.stats.visible, fwd.stats.instances,
                ms, path.c_str());
    std::fflush(stdout);
  }
  return 0;
}

void print_error(const char* what, const std::string& hint) {
  std::fprintf(stderr, "gsrender: error: %s\n", what);
  if (!hint.empty()) std::fprintf(stderr, "  hint: %s\n", hint.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "gsrender: %s\n\n%s", e.what(), kUsage);
    return 2;
  }
  if (o.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    return run(o);
  } catch (const gs::Error& e) {
    print_error(e.what(), e.hint());
  } catch (const std::exception& e) {
    print_error(e.what(), "");
  }
  return 1;
}
