// bench_render: times SH→colour, rasterizer forward and backward on a PLY for one view and prints
// one JSON object (medians over repeats, visible Gaussians, tile instances, peak accounted bytes
// by category) on stdout. Exit codes as gsrender: 1 runtime error, 2 usage error.
#include <memory>
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/buffer.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/memory_accounting.h"
#include "datasets/cameras_json.h"
#include "core/camera.h"
#include "rasterizer/rasterize.h"
#include "rasterizer/sh.h"
#include "scene/gaussian_cloud.h"
#include "formats/ply_io.h"
#include "tools/device_flag.h"
#include "tools/flags.h"

namespace {

constexpr const char* kUsage =
    "usage: bench_render --ply FILE (--cameras FILE.json [--camera NAME] | --width W --height H)\n"
    "                    [options]\n"
    "\n"
    "Times SH->colour, rasterize_forward and rasterize_backward (fixed synthetic dL/dRGB) for\n"
    "one view and prints one JSON object on stdout: medians in ms, Gaussians, visible, tile\n"
    "instances, and peak accounted bytes by memory category.\n"
    "\n"
    "  --ply FILE       Gaussians (3DGS PLY)\n"
    "  --cameras FILE   cameras JSON (datasets/cameras_json.h); the first camera unless --camera\n"
    "  --camera NAME    which camera of --cameras to use\n"
    "  --width W        with --height: an orbit camera (60 deg horizontal field of view) looking\n"
    "  --height H       at the cloud's robust centre from outside its robust extent\n"
    "  --device D       auto (default) | cpu | cuda | cuda:N\n"
    "  --repeats N      measured repetitions (default 5); medians are reported\n"
    "  --warmup K       unmeasured repetitions first (default 1)\n"
    "  --antialias      antialiased opacity compensation\n"
    "  --sh-degree D    use SH up to degree D (default: all the file has)\n"
    "  --allocator A    cuda_malloc (default) | stream_pool: where CUDA buffers come from\n"
    "                   (memory.allocator of the configs)\n"
    "  --help           this text\n";

using gs::tools::Flags;
using gs::tools::UsageError;

struct Options {
  std::string ply, cameras, camera, device = "auto", allocator = "cuda_malloc";
  int width = 0, height = 0, repeats = 5, warmup = 1, sh_degree = -1;
  bool antialias = false, help = false;
};

Options parse_args(int argc, char** argv) {
  const Flags flags(argc, argv,
                    {{"--ply", true}, {"--cameras", true}, {"--camera", true}, {"--width", true},
                     {"--height", true}, {"--device", true}, {"--repeats", true},
                     {"--warmup", true}, {"--sh-degree", true}, {"--allocator", true},
                     {"--antialias"}, {"--help"}});
  Options o;
  o.help = flags.has("--help");
  if (o.help) return o;
  o.ply = flags.required("--ply");
  const bool cams = flags.has("--cameras");
  const bool size = flags.has("--width") || flags.has("--height");
  if (cams == size)
    throw UsageError("give either --cameras FILE or --width W --height H (exactly one of them)");
  if (cams) {
    o.cameras = flags.value("--cameras");
    o.camera = flags.value("--camera");
  } else {
    if (!flags.has("--width") || !flags.has("--height"))
      throw UsageError("--width and --height go together");
    if (flags.has("--camera")) throw UsageError("--camera needs --cameras");
    o.width = flags.integer("--width", 1, 32768, 0);
    o.height = flags.integer("--height", 1, 32768, 0);
  }
  o.device = gs::tools::device_flag(flags);
  o.repeats = flags.integer("--repeats", 1, 100000, o.repeats);
  o.warmup = flags.integer("--warmup", 0, 100000, o.warmup);
  o.sh_degree = flags.integer("--sh-degree", 0, 3, o.sh_degree);
  o.antialias = flags.has("--antialias");
  if (flags.has("--allocator")) o.allocator = flags.value("--allocator");
  if (o.allocator != "cuda_malloc" && o.allocator != "stream_pool")
    throw UsageError("--allocator is cuda_malloc or stream_pool, not '" + o.allocator + "'");
  return o;
}

// A camera outside the cloud's robust extent, looking at its robust centre, slightly from above
// in the COLMAP-like convention of most captures (world y pointing down).
gs::Camera orbit_camera(const gs::GaussianCloud& cloud, int width, int height) {
  const gs::RobustBounds b = gs::robust_bounds(cloud, 0.05f);
  float extent = 0;
  for (int a = 0; a < 3; ++a) extent = std::max(extent, 0.5f * (b.hi[a] - b.lo[a]));
  if (!(extent > 0)) extent = 1;
  const float fx = 0.5f * static_cast<float>(width) / std::tan(0.5f * 60.f * 3.14159265f / 180.f);
  const float half_fov = std::atan(0.5f * static_cast<float>(std::min(width, height)) / fx);
  const float distance = extent / std::tan(half_fov) + extent;
  float dir[3] = {0.35f, -0.35f, -1.f};  // from the camera's target towards the eye
  const float len = std::sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  std::array<float, 3> eye;
  for (int a = 0; a < 3; ++a) eye[a] = b.center[a] + distance * dir[a] / len;
  gs::Camera c = gs::look_at_camera(width, height, fx, fx, eye, b.center, {0, -1, 0});
  c.name = "orbit";
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of the whole process (all threads) in ms. Next to wall time it shows how much of the
// machine a CPU run really got: on a shared machine wall time alone overstates the cost.
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}

int run(const Options& o) {
  const gs::Device device = gs::resolve_device(o.device);
  const gs::GaussianCloud cloud = gs::read_ply(o.ply);
  gs::Camera cam;
  if (!o.cameras.empty()) {
    const std::vector<gs::Camera> cams = gs::read_cameras_json(o.cameras);
    if (o.camera.empty()) {
      cam = cams.front();
    } else {
      const auto it = std::find_if(cams.begin(), cams.end(),
                                   [&](const gs::Camera& c) { return c.name == o.camera; });
      if (it == cams.end())
        throw gs::IoError(o.cameras + ": has no camera named '" + o.camera + "'",
                          "use one of the names in the file");
      cam = *it;
    }
  } else {
    cam = orbit_camera(cloud, o.width, o.height);
  }
  const int active = o.sh_degree < 0 ? cloud.sh_degree : std::min(o.sh_degree, cloud.sh_degree);

  gs::MemoryAccountant& acc = gs::MemoryAccountant::of(device.kind);
  acc.reset_peak();
  // The pool may keep what the device has (the benchmark is not capped). Declared before the
  // buffers, so it outlives them.
  std::unique_ptr<gs::StreamPoolScope> pool;
  if (o.allocator == "stream_pool" && device.is_cuda()) {
    const auto info = gs::device_memory_info(device);
    pool = std::make_unique<gs::StreamPoolScope>(device, info ? info->total_bytes : 0);
  }
  const gs::DeviceGaussians g = gs::DeviceGaussians::upload(device, cloud);
  gs::Buffer<float> colors(device, g.count * 3, gs::MemCategory::raster);
  gs::Buffer<float> v_sh(device, g.sh.size(), gs::MemCategory::grads);
  // A fixed, deterministic dL/dRGB with both signs, so no gradient cancels by symmetry.
  std::vector<float> v_rgb_host(static_cast<size_t>(cam.width) * cam.height * 3);
  for (size_t i = 0; i < v_rgb_host.size(); ++i)
    v_rgb_host[i] = static_cast<float>((i * 2654435761u) % 1000u) / 1000.f - 0.5f;
  const gs::Buffer<float> v_rgb = gs::Buffer<float>::from_host(device, v_rgb_host,
                                                               gs::MemCategory::raster);

  gs::RasterSettings settings;
  settings.antialias = o.antialias;
  gs::GaussianInputs inputs;
  inputs.count = g.count;
  inputs.means = g.means.data();
  inputs.log_scales = g.log_scales.data();
  inputs.quats = g.quats.data();
  inputs.opacity_logits = g.opacity_logits.data();
  inputs.colors = colors.data();
  const std::array<float, 3> campos = gs::camera_center(cam);

  std::vector<double> sh_ms, fwd_ms, bwd_ms, sh_bwd_ms, fwd_cpu_ms, bwd_cpu_ms;
  gs::RasterStats stats;
  size_t forward_bytes = 0;
  for (int r = 0; r < o.warmup + o.repeats; ++r) {
    const bool measured = r >= o.warmup;
    gs::synchronize(device);
    auto t = std::chrono::steady_clock::now();
    gs::sh_to_color_forward(device, g.count, g.sh_degree, active, g.sh.data(), g.means.data(),
                            campos.data(), colors.data());
    gs::synchronize(device);
    const double t_sh = ms_since(t);
    t = std::chrono::steady_clock::now();
    double cpu = process_cpu_ms();
    gs::RasterForward fwd = gs::rasterize_forward(device, inputs, cam, settings);
    gs::synchronize(device);
    const double t_fwd = ms_since(t), c_fwd = process_cpu_ms() - cpu;
    t = std::chrono::steady_clock::now();
    cpu = process_cpu_ms();
    gs::RasterGradients grads = gs::rasterize_backward(device, inputs, cam, settings, fwd,
                                                       v_rgb.data(), nullptr, nullptr);
    gs::synchronize(device);
    const double t_bwd = ms_since(t), c_bwd = process_cpu_ms() - cpu;
    t = std::chrono::steady_clock::now();
    gs::sh_to_color_backward(device, g.count, g.sh_degree, active, g.sh.data(), g.means.data(),
                             campos.data(), grads.v_colors.data(), v_sh.data(),
                             grads.v_means.data());
    gs::synchronize(device);
    const double t_sh_bwd = ms_since(t);
    if (measured) {
      sh_ms.push_back(t_sh);
      fwd_ms.push_back(t_fwd);
      bwd_ms.push_back(t_bwd);
      sh_bwd_ms.push_back(t_sh_bwd);
      fwd_cpu_ms.push_back(c_fwd);
      bwd_cpu_ms.push_back(c_bwd);
    }
    stats = fwd.stats;
    forward_bytes = fwd.bytes();
  }

  const gs::MemorySnapshot snap = acc.snapshot();
  nlohmann::ordered_json peak_by_category = nlohmann::ordered_json::object();
  for (int c = 0; c < gs::kNumMemCategories; ++c)
    peak_by_category[gs::to_string(static_cast<gs::MemCategory>(c))] = snap.peak[c];
  std::vector<double> total_ms(sh_ms.size());
  for (size_t i = 0; i < total_ms.size(); ++i)
    total_ms[i] = sh_ms[i] + fwd_ms[i] + bwd_ms[i] + sh_bwd_ms[i];

  nlohmann::ordered_json out;
  out["device"] = device.name();
  if (device.is_cpu()) out["cpu_threads"] = omp_get_max_threads();
  out["ply"] = o.ply;
  out["camera"] = cam.name;
  out["gaussians"] = g.count;
  out["sh_degree"] = cloud.sh_degree;
  out["active_sh_degree"] = active;
  out["width"] = cam.width;
  out["height"] = cam.height;
  out["antialias"] = o.antialias;
  out["allocator"] = device.is_cuda() ? o.allocator : "host";
  out["visible"] = stats.visible;
  out["instances"] = stats.instances;
  out["skipped_nonfinite"] = stats.skipped_nonfinite;
  out["repeats"] = o.repeats;
  out["warmup"] = o.warmup;
  out["sh_ms_median"] = median(sh_ms);
  out["forward_ms_median"] = median(fwd_ms);
  out["backward_ms_median"] = median(bwd_ms);
  out["sh_backward_ms_median"] = median(sh_bwd_ms);
  out["total_ms_median"] = median(total_ms);
  out["forward_ms_min"] = *std::min_element(fwd_ms.begin(), fwd_ms.end());
  out["backward_ms_min"] = *std::min_element(bwd_ms.begin(), bwd_ms.end());
  // Host CPU time summed over threads (on CUDA: only the host side of the calls).
  out["forward_cpu_ms_median"] = median(fwd_cpu_ms);
  out["backward_cpu_ms_median"] = median(bwd_cpu_ms);
  out["forward_result_bytes"] = forward_bytes;
  out["peak_bytes"] = snap.peak_total;
  out["peak_bytes_by_category"] = peak_by_category;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bench_render: %s\n\n%s", e.what(), kUsage);
    return 2;
  }
  if (o.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    return run(o);
  } catch (const gs::Error& e) {
    std::fprintf(stderr, "bench_render: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_render: error: %s\n", e.what());
  }
  return 1;
}
