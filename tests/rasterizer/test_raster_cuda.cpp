// CPU/CUDA parity of the rasterizer and SH: random scenes, forward and backward, the CPU
// backend as the oracle. Skipped, visibly, without a usable GPU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "rasterizer/rasterize.h"
#include "rasterizer/sh.h"
#include "tests/rasterizer/raster_test_util.h"

using namespace gs;
using namespace gs::test;

namespace {

bool have_gpu() {
  std::string why;
  if (cuda_available(&why)) return true;
  WARN("skipped: no CUDA device (" << why << ")");
  return false;
}

// Uploads a host scene to the GPU and keeps the buffers alive.
struct DeviceScene {
  Buffer<float> means, log_scales, quats, opacity_logits, colors;
  DeviceScene(const Device& d, const HostScene<float>& s)
      : means(Buffer<float>::from_host(d, s.means, MemCategory::other)),
        log_scales(Buffer<float>::from_host(d, s.log_scales, MemCategory::other)),
        quats(Buffer<float>::from_host(d, s.quats, MemCategory::other)),
        opacity_logits(Buffer<float>::from_host(d, s.opacity_logits, MemCategory::other)),
        colors(Buffer<float>::from_host(d, s.colors, MemCategory::other)) {}
  GaussianInputs inputs() const {
    return {opacity_logits.size(), means.data(), log_scales.data(), quats.data(),
            opacity_logits.data(), colors.data()};
  }
};

// max |a − b| / (max |b| + tiny): one relative error for a whole array.
double rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, scale = 1e-12;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return diff / scale;
}

void compare_scene(const HostScene<float>& s, const Camera& cam, const RasterSettings& rs,
                   std::mt19937& rng) {
  const Device gpu = Device::cuda(0);
  const DeviceScene ds(gpu, s);
  const LossWeights<float> w = random_weights(rng, cam.width, cam.height).cast_helper<float>();
  const RasterForward fc = rasterize_forward(Device::cpu(), s.inputs(), cam, rs);
  const RasterForward fg = rasterize_forward(gpu, ds.inputs(), cam, rs);
  CHECK(fg.stats.visible == fc.stats.visible);
  CHECK(fg.stats.instances == fc.stats.instances);
  CHECK(fg.stats.skipped_nonfinite == fc.stats.skipped_nonfinite);
  CHECK(fg.radii.to_host() == fc.radii.to_host());
  CHECK(rel_error(fg.rgb.to_host(), fc.rgb.to_host()) < 1e-4);
  CHECK(rel_error(fg.alpha.to_host(), fc.alpha.to_host()) < 1e-4);
  CHECK(rel_error(fg.depth.to_host(), fc.depth.to_host()) < 1e-4);
  CHECK(fg.tile_ranges.to_host() == fc.tile_ranges.to_host());

  const Buffer<float> vr = Buffer<float>::from_host(gpu, w.rgb, MemCategory::other);
  const Buffer<float> va = Buffer<float>::from_host(gpu, w.alpha, MemCategory::other);
  const Buffer<float> vd = Buffer<float>::from_host(gpu, w.depth, MemCategory::other);
  const RasterGradients gc = rasterize_backward(Device::cpu(), s.inputs(), cam, rs, fc, w.rgb.data(),
                                                w.alpha.data(), w.depth.data());
  const RasterGradients gg =
      rasterize_backward(gpu, ds.inputs(), cam, rs, fg, vr.data(), va.data(), vd.data());
  const std::pair<const Buffer<float>*, const Buffer<float>*> pairs[] = {
      {&gg.v_means, &gc.v_means},   {&gg.v_log_scales, &gc.v_log_scales},
      {&gg.v_quats, &gc.v_quats},   {&gg.v_opacity_logits, &gc.v_opacity_logits},
      {&gg.v_colors, &gc.v_colors}, {&gg.v_mean2d, &gc.v_mean2d},
      {&gg.absgrad, &gc.absgrad}};
  const char* names[] = {"v_means", "v_log_scales", "v_quats", "v_opacity_logits", "v_colors", "v_mean2d", "absgrad"};
  for (size_t k = 0; k < 7; ++k) {
    INFO(names[k]);
    CHECK(rel_error(pairs[k].first->to_host(), pairs[k].second->to_host()) < 2e-4);
  }
  for (int c = 0; c < 3; ++c) CHECK(gg.v_background[c] == Approx(gc.v_background[c]).epsilon(1e-4));
}

}  // namespace

TEST_CASE("CUDA rasterizer matches the CPU on random scenes, forward and backward",
          "[raster][cuda]") {
  if (!have_gpu()) return;
  std::mt19937 rng(31);
  SECTION("small, facing camera") {
    compare_scene(random_scene(rng, 60, 33, 17, 30.f).cast<float>(), test_camera(33, 17, 30.f), {}, rng);
  }
  SECTION("larger, tilted camera, antialiased, background, big tile lists") {
    const Camera cam = tilted_camera(150, 97, 120.f, 3.f);
    HostScene<double> s = random_scene(rng, 3000, 150, 97, 120.f);
    move_to_camera_frame(s, cam);
    RasterSettings rs;
    rs.antialias = true;
    rs.background[0] = 0.3f;
    rs.background[2] = 0.7f;
    compare_scene(s.cast<float>(), cam, rs, rng);
  }
  SECTION("edge cases: empty, 1x1, NaN inputs") {
    compare_scene(HostScene<float>{}, test_camera(20, 20, 20.f), {}, rng);
    compare_scene(random_scene(rng, 10, 1, 1, 2.f).cast<float>(), test_camera(1, 1, 2.f), {}, rng);
    HostScene<float> s = random_scene(rng, 30, 40, 24, 30.f).cast<float>();
    s.means[3] = std::nanf("");
    s.opacity_logits[5] = INFINITY;
    compare_scene(s, test_camera(40, 24, 30.f), {}, rng);
  }
}

TEST_CASE("CUDA SH to colour matches the CPU, degrees 0-3", "[raster][cuda][sh]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  std::mt19937 rng(32);
  std::uniform_real_distribution<float> u(-1, 1);
  const size_t n = 1000;
  std::vector<float> means(n * 3), v_colors(n * 3);
  for (float& v : means) v = 3 * u(rng);
  for (float& v : v_colors) v = u(rng);
  const float campos[3] = {0.5f, -0.2f, -4.f};
  for (int degree = 0; degree <= 3; ++degree) {
    const int active = std::max(0, degree - (degree == 3));
    std::vector<float> sh(n * size_t(sh_coeff_count(degree)) * 3);
    for (float& v : sh) v = 0.5f * u(rng);
    std::vector<float> colors(n * 3), v_sh(sh.size()), v_means(n * 3, 0.f);
    sh_to_color_forward(Device::cpu(), n, degree, active, sh.data(), means.data(), campos, colors.data());
    sh_to_color_backward(Device::cpu(), n, degree, active, sh.data(), means.data(), campos,
                         v_colors.data(), v_sh.data(), v_means.data());
    const auto d_sh = Buffer<float>::from_host(gpu, sh, MemCategory::other);
    const auto d_means = Buffer<float>::from_host(gpu, means, MemCategory::other);
    const auto d_vc = Buffer<float>::from_host(gpu, v_colors, MemCategory::other);
    auto d_colors = Buffer<float>(gpu, n * 3, MemCategory::other);
    auto d_vsh = Buffer<float>(gpu, sh.size(), MemCategory::other);
    auto d_vm = Buffer<float>::zeros(gpu, n * 3, MemCategory::other);
    sh_to_color_forward(gpu, n, degree, active, d_sh.data(), d_means.data(), campos, d_colors.data());
    sh_to_color_backward(gpu, n, degree, active, d_sh.data(), d_means.data(), campos, d_vc.data(),
                         d_vsh.data(), d_vm.data());
    INFO("degree " << degree);
    CHECK(rel_error(d_colors.to_host(), colors) < 1e-5);
    CHECK(rel_error(d_vsh.to_host(), v_sh) < 1e-5);
    CHECK(rel_error(d_vm.to_host(), v_means) < 1e-4);
  }
}
