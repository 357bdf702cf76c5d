// The sky cube map and the per-image exposure affine of street scenes: the documented cube-map
// face convention texel by texel, closed-form composites (alpha 1 = rgb, zero exposure =
// identity), every backward against central finite differences in double, and CPU/CUDA parity
// at 512×512 (skipped, visibly, without a GPU).
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/camera.h"
#include "rasterizer/exposure.h"
#include "rasterizer/sky_map.h"
#include "rasterizer/sky_map_impl.h"
#include "tests/deform/gradient_check.h"
#include "tests/test_support.h"
#include "tests/parity_util.h"

using namespace gs;
using gs::test::rel_error;
using gs::test::to_floats;
using gs::test::upload;
using gs::test::random_floats;
using gs::test::central_difference;
using gs::test::dot;
using gs::test::random_vector;

namespace {

// Relative error, absolute below 1e-3. Both ops are linear in what is differentiated, so
// central differences are exact up to rounding.
double rel_err(double analytic, double numeric) { return gs::test::rel_err(analytic, numeric, 1e-3); }

// The direction through the centre of texel (face, row, col): sky_map.h's table inverted.
rmath::Vec3<double> texel_direction(int face, int row, int col, int r) {
  const double sc = 2 * (col + 0.5) / r - 1, tc = 2 * (row + 0.5) / r - 1;
  switch (face) {
    case 0: return {1, -tc, -sc};
    case 1: return {-1, -tc, sc};
    case 2: return {sc, 1, tc};
    case 3: return {sc, -1, -tc};
    case 4: return {sc, -tc, 1};
    default: return {-sc, -tc, -1};
  }
}

// A camera looking from the origin along `forward`, with a wide field of view.
Camera sky_camera(int w, int h, float focal, std::array<float, 3> forward,
                  std::array<float, 3> up = {0, 0, 1}) {
  return look_at_camera(w, h, focal, focal, {0, 0, 0}, forward, up);
}

}  // namespace

TEST_CASE("sky map: every texel centre's direction samples exactly that texel", "[sky]") {
  const int r = 4;
  for (int face = 0; face < kSkyFaces; ++face)
    for (int row = 0; row < r; ++row)
      for (int col = 0; col < r; ++col) {
        // Any positive scale of the direction is the same lookup.
        const rmath::Vec3<double> d = 2.5 * texel_direction(face, row, col, r);
        const sky_impl::CubeSample<double> s = sky_impl::cube_sample(d, r);
        const size_t expect = (size_t(face) * r + row) * r + col;
        double on = 0, off = 0;
        for (int k = 0; k < 4; ++k) (s.texel[k] == expect ? on : off) += s.weight[k];
        INFO("face " << face << " row " << row << " col " << col);
        CHECK(on == Approx(1));
        CHECK(off == Approx(0).margin(1e-12));
      }
}

TEST_CASE("sky map: bilinear between texels, clamped at a face's edge", "[sky]") {
  const int r = 2;
  // Straight along +Z: the face centre, equidistant from its four texels.
  sky_impl::CubeSample<double> s = sky_impl::cube_sample<double>({0, 0, 1}, r);
  for (int k = 0; k < 4; ++k) CHECK(s.weight[k] == Approx(0.25));
  // Towards the +Z face's +x edge (column 1, rows blended): the clamp keeps column 1.
  s = sky_impl::cube_sample<double>({0.99, 0, 1}, r);
  double col1 = 0;
  for (int k = 0; k < 4; ++k)
    if (s.texel[k] % r == 1) col1 += s.weight[k];
  CHECK(col1 == Approx(1));
}

TEST_CASE("sky composite: alpha 1 gives rgb, alpha 0 adds the sky, view directions", "[sky]") {
  const Camera cam = sky_camera(6, 4, 3.f, {0.3f, 1.f, 0.2f});
  const size_t px = 24;
  const int r = 3;
  std::vector<double> texels(sky_map_floats(r), kSkyInitialValue);
  const std::vector<double> rgb = random_vector(px * 3, 1, 0, 1);
  std::vector<double> out(px * 3), sky(px * 3);
  const std::vector<double> ones(px, 1.0), zeros(px, 0.0);
  sky_composite_forward<double>(Device::cpu(), cam, r, texels.data(), rgb.data(), ones.data(),
                                out.data(), sky.data());
  CHECK(out == rgb);
  for (double v : sky) CHECK(v == Approx(0.5));
  sky_composite_forward<double>(Device::cpu(), cam, r, texels.data(), rgb.data(), zeros.data(),
                                out.data(), nullptr);
  for (size_t k = 0; k < out.size(); ++k) CHECK(out[k] == Approx(rgb[k] + 0.5));

  // A camera looking up the world +Z axis sees the +Z face at its centre pixel; one looking
  // down −X sees the −X face.
  const int rr = 5;
  std::vector<double> faces(sky_map_floats(rr));
  for (size_t t = 0; t < faces.size(); ++t) faces[t] = double(t / (3 * rr * rr));  // = face index
  const std::vector<double> black(3, 0.0), clear(1, 0.0);
  std::vector<double> o(3);
  sky_composite_forward<double>(Device::cpu(), sky_camera(1, 1, 1.f, {0, 0, 1}, {0, 1, 0}), rr,
                                faces.data(), black.data(), clear.data(), o.data(), nullptr);
  CHECK(o[0] == 4);
  sky_composite_forward<double>(Device::cpu(), sky_camera(1, 1, 1.f, {-1, 0, 0}), rr,
                                faces.data(), black.data(), clear.data(), o.data(), nullptr);
  CHECK(o[0] == 1);
  // Out may alias rgb.
  std::vector<double> inplace = rgb;
  sky_composite_forward<double>(Device::cpu(), cam, r, texels.data(), inplace.data(),
                                zeros.data(), inplace.data(), nullptr);
  CHECK(inplace == out);
}

TEST_CASE("sky composite backward matches finite differences (texels, alpha)", "[sky]") {
  // A wide, tilted view that crosses several faces and their edges.
  const Camera cam = sky_camera(11, 7, 2.5f, {1.f, 0.4f, 0.9f});
  const size_t px = size_t(cam.width) * cam.height;
  const int r = 3;
  std::vector<double> texels = random_vector(sky_map_floats(r), 3, 0, 1);
  const std::vector<double> rgb = random_vector(px * 3, 4, 0, 1);
  std::vector<double> alpha = random_vector(px, 5, 0, 1);
  const std::vector<double> w = random_vector(px * 3, 6);
  auto loss = [&]() {
    std::vector<double> out(px * 3);
    sky_composite_forward<double>(Device::cpu(), cam, r, texels.data(), rgb.data(), alpha.data(),
                                  out.data(), nullptr);
    return dot(w, out);
  };
  std::vector<double> v_alpha(px, 0.5), v_texels(texels.size(), 0.0);
  sky_composite_backward<double>(Device::cpu(), cam, r, texels.data(), alpha.data(), w.data(),
                                 v_alpha.data(), v_texels.data());
  for (double& g : v_alpha) g -= 0.5;  // accumulated onto 0.5
  double worst = 0;
  size_t touched = 0;
  for (size_t k = 0; k < texels.size(); ++k) {
    const double num = central_difference(texels[k], 1e-3, loss);
    touched += num != 0;
    worst = std::max(worst, rel_err(v_texels[k], num));
  }
  INFO("texel entries touched: " << touched << " of " << texels.size());
  CHECK(touched > 40);  // the view really spans several faces
  CHECK(worst < 1e-6);
  worst = 0;
  for (size_t p = 0; p < px; ++p)
    worst = std::max(worst, rel_err(v_alpha[p], central_difference(alpha[p], 1e-3, loss)));
  CHECK(worst < 1e-6);
}

TEST_CASE("exposure: zero parameters are the identity; a known affine", "[exposure]") {
  const size_t px = 50;
  const std::vector<double> rgb = random_vector(px * 3, 7, 0, 1);
  std::vector<double> params(kExposureParams, 0.0), out(px * 3);
  exposure_forward<double>(Device::cpu(), px, params.data(), rgb.data(), out.data());
  CHECK(out == rgb);
  // Gain 2 on red, swap-in of green into blue, offset on blue.
  params = {1, 0, 0, 0, /**/ 0, 0, 0, 0, /**/ 0, 1, 0, 0.25};
  exposure_forward<double>(Device::cpu(), px, params.data(), rgb.data(), out.data());
  for (size_t p = 0; p < px; ++p) {
    CHECK(out[3 * p] == Approx(2 * rgb[3 * p]));
    CHECK(out[3 * p + 1] == Approx(rgb[3 * p + 1]));
    CHECK(out[3 * p + 2] == Approx(rgb[3 * p + 2] + rgb[3 * p + 1] + 0.25));
  }
}

TEST_CASE("exposure backward matches finite differences (A, t, rgb)", "[exposure]") {
  const size_t px = 37;
  std::vector<double> params = random_vector(kExposureParams, 8, -0.3, 0.3);
  std::vector<double> rgb = random_vector(px * 3, 9, 0, 1);
  const std::vector<double> w = random_vector(px * 3, 10);
  auto loss = [&]() {
    std::vector<double> out(px * 3);
    exposure_forward<double>(Device::cpu(), px, params.data(), rgb.data(), out.data());
    return dot(w, out);
  };
  std::vector<double> v_rgb(px * 3), v_params(kExposureParams, 1.0);
  exposure_backward<double>(Device::cpu(), px, params.data(), rgb.data(), w.data(), v_rgb.data(),
                            v_params.data());
  for (double& g : v_params) g -= 1.0;  // accumulated onto 1
  double worst = 0;
  for (int j = 0; j < kExposureParams; ++j)
    worst = std::max(worst, rel_err(v_params[j], central_difference(params[j], 1e-3, loss)));
  CHECK(worst < 1e-6);
  worst = 0;
  for (size_t k = 0; k < rgb.size(); ++k)
    worst = std::max(worst, rel_err(v_rgb[k], central_difference(rgb[k], 1e-3, loss)));
  CHECK(worst < 1e-6);
  // v_rgb may alias v_out.
  std::vector<double> inplace = w;
  exposure_backward<double>(Device::cpu(), px, params.data(), rgb.data(), inplace.data(),
                            inplace.data(), nullptr);
  CHECK(inplace == v_rgb);
}

TEST_CASE("exposure: CPU parameter gradients do not depend on the thread count", "[exposure]") {
  const size_t px = 300000;
  const std::vector<double> pd = random_vector(kExposureParams, 12, -0.2, 0.2);
  const std::vector<double> rd = random_vector(px * 3, 13, 0, 1), vd = random_vector(px * 3, 14);
  const std::vector<float> params(pd.begin(), pd.end()), rgb(rd.begin(), rd.end()),
      v_out(vd.begin(), vd.end());
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<float> v_params(kExposureParams, 0.f);
    exposure_backward<float>(Device::cpu(), px, params.data(), rgb.data(), v_out.data(), nullptr,
                             v_params.data());
    omp_set_num_threads(saved);
    return v_params;
  };
  CHECK(run(1) == run(3));
}

TEST_CASE("exposure regulariser: weight * L1 and its subgradient", "[exposure]") {
  std::vector<double> params = random_vector(kExposureParams, 11, -1, 1);
  params[4] = 0;  // subgradient 0 at 0
  double l1 = 0;
  for (double p : params) l1 += std::abs(p);
  std::vector<double> v(kExposureParams, 0.0);
  const double value =
      exposure_regularizer<double>(Device::cpu(), params.data(), kExposureRegularizerWeight, v.data());
  CHECK(value == Approx(kExposureRegularizerWeight * l1));
  for (int j = 0; j < kExposureParams; ++j) {
    INFO("parameter " << j);
    if (j == 4) {
      CHECK(v[j] == 0);
      continue;
    }
    const double num = central_difference(params[j], 1e-6, [&] {
      return exposure_regularizer<double>(Device::cpu(), params.data(), kExposureRegularizerWeight,
                                          nullptr);
    });
    CHECK(v[j] == Approx(num).epsilon(1e-6));
  }
  const std::vector<double> zero(kExposureParams, 0.0);
  CHECK(exposure_regularizer<double>(Device::cpu(), zero.data(), 1.0, nullptr) == 0);
}

namespace {

using gs::test::have_gpu;




}  // namespace

TEST_CASE("CUDA sky composite matches the CPU at 512x512", "[sky][cuda]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const Camera cam = sky_camera(512, 512, 300.f, {0.7f, 0.2f, 0.8f});
  const size_t px = 512 * 512;
  for (const int r : {16, 256}) {  // many pixels per texel (contended atomics), and few
    INFO("resolution " << r);
    const std::vector<float> texels = random_floats(sky_map_floats(r), 41, 0, 1);
    const std::vector<float> rgb = random_floats(px * 3, 42, 0, 1);
    const std::vector<float> alpha = random_floats(px, 43, 0, 1);
    const std::vector<float> v_out = random_floats(px * 3, 44, -1, 1);
    std::vector<float> out(px * 3), sky(px * 3), v_alpha(px, 0.f), v_texels(texels.size(), 0.f);
    sky_composite_forward<float>(Device::cpu(), cam, r, texels.data(), rgb.data(), alpha.data(),
                                 out.data(), sky.data());
    sky_composite_backward<float>(Device::cpu(), cam, r, texels.data(), alpha.data(),
                                  v_out.data(), v_alpha.data(), v_texels.data());
    const auto dt = upload(gpu, texels), drgb = upload(gpu, rgb), da = upload(gpu, alpha), dv = upload(gpu, v_out);
    Buffer<float> dout(gpu, px * 3, MemCategory::other), dsky(gpu, px * 3, MemCategory::other);
    auto dva = Buffer<float>::zeros(gpu, px, MemCategory::other);
    auto dvt = Buffer<float>::zeros(gpu, texels.size(), MemCategory::other);
    sky_composite_forward<float>(gpu, cam, r, dt.data(), drgb.data(), da.data(), dout.data(),
                                 dsky.data());
    sky_composite_backward<float>(gpu, cam, r, dt.data(), da.data(), dv.data(), dva.data(),
                                  dvt.data());
    CHECK(rel_error(dout.to_host(), out) < 1e-5);
    CHECK(rel_error(dsky.to_host(), sky) < 1e-5);
    CHECK(rel_error(dva.to_host(), v_alpha) < 1e-5);
    // Up to ~1000 float terms per texel, summed in another order.
    CHECK(rel_error(dvt.to_host(), v_texels) < 1e-4);
  }
}

TEST_CASE("CUDA exposure affine matches the CPU at 512x512", "[exposure][cuda]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const size_t px = 512 * 512;
  const std::vector<float> params = random_floats(kExposureParams, 51, -0.2f, 0.2f);
  const std::vector<float> rgb = random_floats(px * 3, 52, 0, 1);
  const std::vector<float> v_out = random_floats(px * 3, 53, -1, 1);
  std::vector<float> out(px * 3), v_rgb(px * 3), v_params(kExposureParams, 0.f);
  exposure_forward<float>(Device::cpu(), px, params.data(), rgb.data(), out.data());
  exposure_backward<float>(Device::cpu(), px, params.data(), rgb.data(), v_out.data(),
                           v_rgb.data(), v_params.data());
  const double reg_cpu = exposure_regularizer<float>(Device::cpu(), params.data(), 1e-5, v_params.data());
  const auto dp = upload(gpu, params), drgb = upload(gpu, rgb), dv = upload(gpu, v_out);
  Buffer<float> dout(gpu, px * 3, MemCategory::other), dvr(gpu, px * 3, MemCategory::other);
  auto dvp = Buffer<float>::zeros(gpu, kExposureParams, MemCategory::other);
  exposure_forward<float>(gpu, px, dp.data(), drgb.data(), dout.data());
  exposure_backward<float>(gpu, px, dp.data(), drgb.data(), dv.data(), dvr.data(), dvp.data());
  const double reg_gpu = exposure_regularizer<float>(gpu, dp.data(), 1e-5, dvp.data());
  CHECK(rel_error(dout.to_host(), out) < 1e-6);
  CHECK(rel_error(dvr.to_host(), v_rgb) < 1e-6);
  // 262144 float terms per parameter: the CPU sums them in double, the GPU in float partials.
  CHECK(rel_error(dvp.to_host(), v_params) < 1e-3);
  CHECK(reg_gpu == Approx(reg_cpu).epsilon(1e-6));
  // In place, as the training step calls it (∂L/∂out overwritten by ∂L/∂rgb): the same.
  auto dinplace = upload(gpu, v_out);
  auto dvp2 = Buffer<float>::zeros(gpu, kExposureParams, MemCategory::other);
  exposure_backward<float>(gpu, px, dp.data(), drgb.data(), dinplace.data(), dinplace.data(),
                           dvp2.data());
  CHECK(dinplace.to_host() == dvr.to_host());
  CHECK(dvp2.to_host() == dvp.to_host());
}
