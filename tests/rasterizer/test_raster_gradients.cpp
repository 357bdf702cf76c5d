// Gradient checks of the whole rasterizer (projection, binning, sort, blend, backward) run in
// double on the CPU against central finite differences: every Gaussian input, SH coefficients
// of each degree through sh_to_color, the background, and the 2D-mean gradient and AbsGrad.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "rasterizer/rasterize_backends.h"
#include "rasterizer/sh.h"
#include "tests/rasterizer/raster_test_util.h"

using namespace gs;
using namespace gs::test;

namespace {

struct GradCheck {
  int checked = 0, failed = 0;
  double worst = 0;
};

// Compares an analytic derivative with central differences of `loss` in `param`. Retries with
// smaller steps before failing, since a step can push a pixel across a discrete decision (the
// 1/255 alpha cut, early termination), where the loss jumps.
void check_param(double& param, double analytic, const std::function<double()>& loss,
                 const std::string& what, GradCheck& stats, double tol = 1e-6) {
  const double x0 = param;
  double err = 1e300, best_numeric = 0;
  for (double h : {1e-6, 1e-7, 2e-8}) {
    param = x0 + h;
    const double lp = loss();
    param = x0 - h;
    const double lm = loss();
    param = x0;
    const double numeric = (lp - lm) / (2 * h);
    const double e = std::abs(numeric - analytic) / (1 + std::abs(numeric));
    if (e < err) {
      err = e;
      best_numeric = numeric;
    }
    if (err <= tol) break;
  }
  ++stats.checked;
  stats.worst = std::max(stats.worst, err);
  if (err > tol) {
    ++stats.failed;
    UNSCOPED_INFO(what << ": analytic " << analytic << " numeric " << best_numeric);
  }
}

void check_all_inputs(HostScene<double> scene, const Camera& cam, const RasterSettings& settings,
                      std::mt19937& rng) {
  ScopedSingleThread single;
  const LossWeights<double> w = random_weights(rng, cam.width, cam.height);
  auto loss = [&] { return loss_of(rasterize_forward_cpu<double>(scene.inputs(), cam, settings), w); };
  const RasterForwardT<double> f = rasterize_forward_cpu<double>(scene.inputs(), cam, settings);
  REQUIRE(f.stats.visible >= scene.count() / 2);
  const RasterGradientsT<double> g = rasterize_backward_cpu<double>(
      scene.inputs(), cam, settings, f, w.rgb.data(), w.alpha.data(), w.depth.data());
  GradCheck stats;
  const auto check_group = [&](std::vector<double>& values, const Buffer<double>& grads,
                               const char* name) {
    for (size_t k = 0; k < values.size(); ++k)
      check_param(values[k], grads[k], loss, std::string(name) + "[" + std::to_string(k) + "]", stats);
  };
  check_group(scene.means, g.v_means, "means");
  check_group(scene.log_scales, g.v_log_scales, "log_scales");
  check_group(scene.quats, g.v_quats, "quats");
  check_group(scene.opacity_logits, g.v_opacity_logits, "opacity_logits");
  check_group(scene.colors, g.v_colors, "colors");
  // Background: linear in the output, so a float-exact step of 2^-10 is exact.
  RasterSettings s2 = settings;
  for (int c = 0; c < 3; ++c) {
    const float h = 1.0f / 1024;
    s2.background[c] = settings.background[c] + h;
    const double lp = loss_of(rasterize_forward_cpu<double>(scene.inputs(), cam, s2), w);
    s2.background[c] = settings.background[c] - h;
    const double lm = loss_of(rasterize_forward_cpu<double>(scene.inputs(), cam, s2), w);
    s2.background[c] = settings.background[c];
    CHECK(g.v_background[c] == Approx((lp - lm) / (2.0 * h)).epsilon(1e-9));
  }
  INFO("checked " << stats.checked << " derivatives, worst relative error " << stats.worst);
  CHECK(stats.failed == 0);
}

}  // namespace

TEST_CASE("rasterizer gradients of every input match double-precision finite differences",
          "[raster][grad]") {
  std::mt19937 rng(11);
  RasterSettings settings;
  settings.background[0] = 0.25f;
  settings.background[1] = 0.5f;
  settings.background[2] = 0.125f;
  SECTION("facing camera, 24x20") {
    const Camera cam = test_camera(24, 20, 30.f);
    check_all_inputs(random_scene(rng, 14, 24, 20, 30.f), cam, settings, rng);
  }
  SECTION("facing camera, antialiased, 33x17") {
    settings.antialias = true;
    const Camera cam = test_camera(33, 17, 28.f);
    check_all_inputs(random_scene(rng, 14, 33, 17, 28.f), cam, settings, rng);
  }
  SECTION("rotated, translated camera with an off-centre principal point") {
    const Camera cam = tilted_camera(24, 20, 30.f, 3.f);
    HostScene<double> scene = random_scene(rng, 14, 24, 20, 30.f);
    // random_scene places Gaussians for a centred principal point; fine for this camera too.
    move_to_camera_frame(scene, cam);
    check_all_inputs(scene, cam, settings, rng);
  }
  SECTION("dense overlaps with early termination") {
    const Camera cam = test_camera(17, 16, 20.f);
    HostScene<double> scene = random_scene(rng, 30, 17, 16, 20.f, 0.97);
    for (double& l : scene.log_scales) l += 0.8;  // big, heavily overlapping
    const RasterForwardT<double> f = rasterize_forward_cpu<double>(scene.inputs(), cam, settings);
    double min_t = 1;
    for (size_t p = 0; p < f.final_transmittance.size(); ++p) min_t = std::min(min_t, f.final_transmittance[p]);
    CHECK(min_t < 1e-2);  // the scene really is dense
    check_all_inputs(scene, cam, settings, rng);
  }
}

TEST_CASE("SH coefficients of each degree get finite-difference-exact gradients through the "
          "rasterizer", "[raster][grad][sh]") {
  std::mt19937 rng(12);
  ScopedSingleThread single;
  const Camera cam = tilted_camera(20, 18, 26.f, 3.f);
  const std::array<float, 3> cc = camera_center(cam);
  const double campos[3] = {cc[0], cc[1], cc[2]};
  RasterSettings settings;
  settings.background[1] = 0.5f;
  for (int degree = 0; degree <= 3; ++degree)
    for (int active = std::max(0, degree - 1); active <= degree; ++active) {
      INFO("degree " << degree << ", active " << active);
      HostScene<double> scene = random_scene(rng, 10, 20, 18, 26.f);
      move_to_camera_frame(scene, cam);
      const size_t n = scene.count(), kc = size_t(sh_coeff_count(degree));
      std::uniform_real_distribution<double> u(-0.4, 0.4);
      std::vector<double> sh(n * kc * 3);
      for (double& v : sh) v = u(rng);
      const LossWeights<double> w = random_weights(rng, cam.width, cam.height);
      auto loss = [&] {
        sh_to_color_forward_cpu<double>(n, degree, active, sh.data(), scene.means.data(), campos,
                                        scene.colors.data());
        return loss_of(rasterize_forward_cpu<double>(scene.inputs(), cam, settings), w);
      };
      loss();
      const RasterForwardT<double> f = rasterize_forward_cpu<double>(scene.inputs(), cam, settings);
      RasterGradientsT<double> g = rasterize_backward_cpu<double>(
          scene.inputs(), cam, settings, f, w.rgb.data(), w.alpha.data(), w.depth.data());
      std::vector<double> v_sh(sh.size(), -1.0);
      sh_to_color_backward_cpu<double>(n, degree, active, sh.data(), scene.means.data(), campos,
                                       g.v_colors.data(), v_sh.data(), g.v_means.data());
      GradCheck stats;
      for (size_t k = 0; k < sh.size(); ++k) {
        if (int(k / 3 % kc) >= sh_coeff_count(active)) {
          CHECK(v_sh[k] == 0.0);  // above the active degree
          continue;
        }
        check_param(sh[k], v_sh[k], loss, "sh[" + std::to_string(k) + "]", stats);
      }
      for (size_t k = 0; k < scene.means.size(); ++k)
        check_param(scene.means[k], g.v_means[k], loss, "means[" + std::to_string(k) + "]", stats);
      INFO("checked " << stats.checked << ", worst " << stats.worst);
      CHECK(stats.failed == 0);
    }
}

TEST_CASE("2D-mean gradient and AbsGrad", "[raster][grad]") {
  std::mt19937 rng(13);
  const Camera cam = test_camera(24, 20, 30.f);
  HostScene<double> scene = random_scene(rng, 12, 24, 20, 30.f);
  // Drop the last three specials (FOV-clamped, near-plane, behind): shifting the principal point
  // then moves every 2D mean by exactly the shift and changes nothing else.
  for (auto* v : {&scene.means, &scene.log_scales, &scene.colors}) v->resize(v->size() - 9);
  scene.quats.resize(scene.quats.size() - 12);
  scene.opacity_logits.resize(scene.opacity_logits.size() - 3);
  const LossWeights<double> w = random_weights(rng, cam.width, cam.height);
  RasterSettings settings;
  const RasterForwardT<double> f = rasterize_forward_cpu<double>(scene.inputs(), cam, settings);
  const RasterGradientsT<double> g = rasterize_backward_cpu<double>(
      scene.inputs(), cam, settings, f, w.rgb.data(), w.alpha.data(), w.depth.data());
  double sum[2] = {0, 0};
  for (size_t i = 0; i < scene.count(); ++i)
    for (int k = 0; k < 2; ++k) {
      sum[k] += g.v_mean2d[i * 2 + k];
      // |Σ| ≤ Σ|·| per component, with the (W/2, H/2) scale.
      const double scale = k == 0 ? cam.width / 2.0 : cam.height / 2.0;
      CHECK(g.absgrad[i * 2 + k] >= std::abs(g.v_mean2d[i * 2 + k]) * scale * (1 - 1e-12));
    }
  const float h = 1.0f / 4096;
  for (int k = 0; k < 2; ++k) {
    Camera cp = cam, cm = cam;
    (k == 0 ? cp.cx : cp.cy) += h;
    (k == 0 ? cm.cx : cm.cy) -= h;
    const double d = (loss_of(rasterize_forward_cpu<double>(scene.inputs(), cp, settings), w) -
                      loss_of(rasterize_forward_cpu<double>(scene.inputs(), cm, settings), w)) /
                     (2.0 * h);
    CHECK(sum[k] == Approx(d).epsilon(1e-4));
  }
  // One Gaussian, loss on one pixel: AbsGrad is exactly |∂L/∂mean2d| × (W/2, H/2).
  HostScene<double> one;
  one.add(0.1, -0.05, 2.0, std::log(0.15), 0.5, 0.8, 0.3, 0.2);
  LossWeights<double> w1;
  w1.rgb.assign(size_t(cam.width) * cam.height * 3, 0.0);
  w1.rgb[(size_t(11) * cam.width + 13) * 3] = 1.0;
  const RasterForwardT<double> f1 = rasterize_forward_cpu<double>(one.inputs(), cam, settings);
  const RasterGradientsT<double> g1 =
      rasterize_backward_cpu<double>(one.inputs(), cam, settings, f1, w1.rgb.data(), nullptr, nullptr);
  CHECK(g1.absgrad[0] == Approx(std::abs(g1.v_mean2d[0]) * 12));
  CHECK(g1.absgrad[1] == Approx(std::abs(g1.v_mean2d[1]) * 10));
  CHECK(g1.v_mean2d[0] != 0.0);
}
