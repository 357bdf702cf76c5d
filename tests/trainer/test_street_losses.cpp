// The street-scene losses: sky opacity BCE and LiDAR expected-depth L1 against closed forms and
// central finite differences in double (gradients accumulate into what the caller holds), the
// LiDAR depth image's projection, and CPU/CUDA parity at 512×512 (skipped, visibly, without a
// GPU).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/camera.h"
#include "tests/deform/gradient_check.h"
#include "tests/test_support.h"
#include "trainer/street_losses.h"
#include "tests/parity_util.h"

using namespace gs;
using gs::test::rel_error;
using gs::test::to_floats;
using gs::test::upload;
using gs::test::random_floats;
using gs::test::central_difference;
using gs::test::random_vector;

namespace {

double rel_err(double analytic, double numeric) { return gs::test::rel_err(analytic, numeric, 1e-4); }

std::vector<uint8_t> random_mask(size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<uint8_t> m(n);
  for (uint8_t& v : m) v = gen() % 2 ? 255 : 0;
  return m;
}

}  // namespace

TEST_CASE("sky opacity loss: closed forms and the clamp", "[street_loss]") {
  const std::vector<double> half(8, 0.5);
  const std::vector<uint8_t> mask = random_mask(8, 1);
  CHECK(sky_opacity_loss<double>(Device::cpu(), 8, half.data(), mask.data(), 0.05, nullptr) ==
        Approx(0.05 * std::log(2.0)));
  // Opaque where there is no sky, clear where there is: the clamp's floor, −log(1 − 1e-6).
  const std::vector<uint8_t> m2 = {0, 255};
  const std::vector<double> right = {1.0, 0.0}, wrong = {0.0, 1.0};
  std::vector<double> g = {0.0, 0.0};
  CHECK(sky_opacity_loss<double>(Device::cpu(), 2, right.data(), m2.data(), 1.0, g.data()) ==
        Approx(-std::log(1 - 1e-6)));
  // Fully wrong: −log(1e-6) each; beyond the clamp there is no gradient (as torch's clamp).
  CHECK(sky_opacity_loss<double>(Device::cpu(), 2, wrong.data(), m2.data(), 1.0, g.data()) ==
        Approx(-std::log(1e-6)));
  CHECK(g[0] == 0);
  CHECK(g[1] == 0);
}

TEST_CASE("sky opacity loss gradient matches finite differences", "[street_loss]") {
  const size_t n = 64;
  std::vector<double> alpha = random_vector(n, 2, 0.02, 0.98);
  const std::vector<uint8_t> mask = random_mask(n, 3);
  const double w = 0.05;
  std::vector<double> g(n, 1.0);
  sky_opacity_loss<double>(Device::cpu(), n, alpha.data(), mask.data(), w, g.data());
  auto loss = [&]() { return sky_opacity_loss<double>(Device::cpu(), n, alpha.data(), mask.data(), w, nullptr); };
  double worst = 0;
  for (size_t p = 0; p < n; ++p)
    worst = std::max(worst, rel_err(g[p] - 1.0, central_difference(alpha[p], 1e-6, loss)));
  CHECK(worst < 1e-5);
}

TEST_CASE("LiDAR depth loss: closed form, invalid pixels, the alpha floor", "[street_loss]") {
  // Pixels: valid (expected 4 vs 5), no hit (0), too far (100), too near (0.005), valid (exact).
  const std::vector<double> depth = {2.0, 1.0, 1.0, 1.0, 3.0};
  const std::vector<double> alpha = {0.5, 1.0, 1.0, 1.0, 1.0};
  const std::vector<double> lidar = {5.0, 0.0, 100.0, 0.005, 3.0};
  std::vector<double> vd(5, 0.0), va(5, 0.0);
  const double value = lidar_depth_loss<double>(Device::cpu(), 5, depth.data(), alpha.data(),
                                                lidar.data(), 0.01, vd.data(), va.data());
  CHECK(value == Approx(0.01 * (1.0 + 0.0) / 2));
  // Residual −1 at pixel 0: ∂/∂depth = −w/2 / 0.5, ∂/∂alpha = +w/2 · 2/0.25.
  CHECK(vd[0] == Approx(-0.01 / 2 / 0.5));
  CHECK(va[0] == Approx(0.01 / 2 * 2.0 / 0.25));
  for (size_t p = 1; p < 5; ++p) {
    CHECK(vd[p] == 0);
    CHECK(va[p] == 0);
  }
  // No valid pixel: nothing.
  const std::vector<double> none(5, 0.0);
  CHECK(lidar_depth_loss<double>(Device::cpu(), 5, depth.data(), alpha.data(), none.data(), 0.01,
                                 vd.data(), va.data()) == 0);
  // Alpha below the floor: the divisor is held, alpha gets no gradient.
  const std::vector<double> d1 = {1e-6}, a1 = {1e-7}, l1 = {1.0};
  std::vector<double> vd1 = {0.0}, va1 = {0.0};
  CHECK(lidar_depth_loss<double>(Device::cpu(), 1, d1.data(), a1.data(), l1.data(), 1.0,
                                 vd1.data(), va1.data(), 1e-4) == Approx(1.0 - 1e-2));
  CHECK(vd1[0] == Approx(-1e4));
  CHECK(va1[0] == 0);
}

TEST_CASE("LiDAR depth loss gradients match finite differences (depth, alpha)", "[street_loss]") {
  const size_t n = 60;
  std::vector<double> alpha = random_vector(n, 4, 0.2, 1.0);
  const std::vector<double> expected = random_vector(n, 5, 1.0, 60.0);
  std::vector<double> depth(n), lidar = random_vector(n, 6, 1.0, 60.0);
  for (size_t p = 0; p < n; ++p) depth[p] = expected[p] * alpha[p];
  for (size_t p = 0; p < n; p += 7) lidar[p] = 0;  // no hit
  lidar[3] = 95;                                    // out of range
  const double w = 0.01;
  std::vector<double> vd(n, -2.0), va(n, 3.0);
  lidar_depth_loss<double>(Device::cpu(), n, depth.data(), alpha.data(), lidar.data(), w,
                           vd.data(), va.data());
  auto loss = [&]() {
    return lidar_depth_loss<double>(Device::cpu(), n, depth.data(), alpha.data(), lidar.data(), w,
                                    nullptr, nullptr);
  };
  double worst_d = 0, worst_a = 0;
  for (size_t p = 0; p < n; ++p) {
    worst_d = std::max(worst_d, rel_err(vd[p] + 2.0, central_difference(depth[p], 1e-6, loss)));
    worst_a = std::max(worst_a, rel_err(va[p] - 3.0, central_difference(alpha[p], 1e-6, loss)));
  }
  CHECK(worst_d < 1e-6);
  CHECK(worst_a < 1e-5);
}

TEST_CASE("LiDAR depth image: nearest point per pixel, camera z, off-image points dropped",
          "[street_loss]") {
  Camera cam;
  cam.width = 8;
  cam.height = 6;
  cam.fx = cam.fy = 4;
  cam.cx = 4;
  cam.cy = 3;
  // Camera at world (0, 0, −1), axes aligned: camera z = world z + 1.
  cam.world_to_camera[11] = 1;
  const std::vector<float> pts = {
      0, 0, 4,        // → pixel (4, 3), z 5
      0.01f, 0.01f, 2,  // same pixel, nearer: z 3 wins
      -1, -0.5f, 3,   // u = 4·(−1/4) + 4 = 3, v = 4·(−0.5/4) + 3 = 2.5 → (3, 2), z 4
      0, 0, -3,       // behind the camera
      50, 0, 1,       // off the image
  };
  const std::vector<float> d = lidar_depth_image(cam, pts.data(), pts.size() / 3);
  REQUIRE(d.size() == 48);
  CHECK(d[3 * 8 + 4] == Approx(3));
  CHECK(d[2 * 8 + 3] == Approx(4));
  int hits = 0;
  for (float v : d) hits += v > 0;
  CHECK(hits == 2);
}

namespace {

using gs::test::have_gpu;




}  // namespace

TEST_CASE("CUDA street losses match the CPU at 512x512", "[street_loss][cuda]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const size_t px = 512 * 512;
  const std::vector<float> alpha = random_floats(px, 61, 0.f, 1.f);
  const std::vector<float> depth = random_floats(px, 62, 0.f, 40.f);
  std::vector<float> lidar = random_floats(px, 63, -20.f, 90.f);  // some invalid either side
  const std::vector<uint8_t> mask = random_mask(px, 64);
  std::vector<float> va(px, 0.f), vd(px, 0.f);
  const double sky_c = sky_opacity_loss<float>(Device::cpu(), px, alpha.data(), mask.data(),
                                               kSkyOpacityLossWeight, va.data());
  const double lidar_c = lidar_depth_loss<float>(Device::cpu(), px, depth.data(), alpha.data(),
                                                 lidar.data(), kLidarDepthLossWeight, vd.data(),
                                                 va.data());
  const auto da = upload(gpu, alpha), dd = upload(gpu, depth), dl = upload(gpu, lidar);
  const auto dm = upload(gpu, mask);
  auto dva = Buffer<float>::zeros(gpu, px, MemCategory::other);
  auto dvd = Buffer<float>::zeros(gpu, px, MemCategory::other);
  const double sky_g = sky_opacity_loss<float>(gpu, px, da.data(), dm.data(),
                                               kSkyOpacityLossWeight, dva.data());
  const double lidar_g = lidar_depth_loss<float>(gpu, px, dd.data(), da.data(), dl.data(),
                                                 kLidarDepthLossWeight, dvd.data(), dva.data());
  CHECK(sky_g == Approx(sky_c).epsilon(1e-6));
  CHECK(lidar_g == Approx(lidar_c).epsilon(1e-6));
  CHECK(rel_error(dva.to_host(), va) < 1e-5);
  CHECK(rel_error(dvd.to_host(), vd) < 1e-5);
}
