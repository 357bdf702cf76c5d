// Forward-pass checks of the rasterizer: closed forms (one Gaussian facing the camera, depth
// order of two), agreement with a brute-force per-pixel reference (so tile culling and sorting
// lose nothing), float vs double, multithreading, and the edge cases: no Gaussians, all culled,
// 1×1 and non-multiple-of-16 images, huge and degenerate scales, NaN inputs, the memory cap.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/memory_accounting.h"
#include "rasterizer/blend_math.h"
#include "rasterizer/project_impl.h"
#include "rasterizer/rasterize.h"
#include "rasterizer/rasterize_backends.h"
#include "tests/rasterizer/raster_test_util.h"

using namespace gs;
using namespace gs::test;

namespace {

double logit(double p) { return std::log(p / (1 - p)); }

RasterForward render(const HostScene<float>& s, const Camera& cam, const RasterSettings& rs = {}) {
  return rasterize_forward(Device::cpu(), s.inputs(), cam, rs);
}

// Brute force: every pixel blends every projected Gaussian in (depth, id) order; no tiles.
struct Reference {
  std::vector<double> rgb, alpha, depth;
};
Reference reference_render(const HostScene<double>& s, const Camera& cam, const RasterSettings& rs) {
  using namespace gs::rmath;
  const ProjCamera<double> pc = raster_impl::make_proj_camera<double>(cam);
  struct P {
    ProjectedGaussian<double> p{};
    size_t id;
  };
  std::vector<P> vis;
  for (size_t i = 0; i < s.count(); ++i) {
    ProjectedGaussian<double> p{};
    if (project_gaussian(pc, Vec3<double>{s.means[i * 3], s.means[i * 3 + 1], s.means[i * 3 + 2]},
                         Vec3<double>{s.log_scales[i * 3], s.log_scales[i * 3 + 1], s.log_scales[i * 3 + 2]},
                         Vec4<double>{s.quats[i * 4], s.quats[i * 4 + 1], s.quats[i * 4 + 2], s.quats[i * 4 + 3]},
                         s.opacity_logits[i], rs.antialias, double(rs.near_plane), &p))
      vis.push_back({p, i});
  }
  std::stable_sort(vis.begin(), vis.end(),
                   [](const P& a, const P& b) { return float(a.p.depth) < float(b.p.depth); });
  Reference r;
  for (int py = 0; py < cam.height; ++py)
    for (int px = 0; px < cam.width; ++px) {
      PixelBlend<double> pb;
      for (size_t j = 0; j < vis.size() && !pb.done; ++j) {
        const auto& g = vis[j].p;
        const double a = splat_alpha(g.conic, g.opacity, px + 0.5 - g.mean2d.x, py + 0.5 - g.mean2d.y);
        if (a > 0) pb.add(int32_t(j), a, &s.colors[vis[j].id * 3], g.depth);
      }
      for (int c = 0; c < 3; ++c) r.rgb.push_back(pb.rgb[c] + pb.trans * rs.background[c]);
      r.alpha.push_back(1 - pb.trans);
      r.depth.push_back(pb.depth);
    }
  return r;
}

template <class T>
double max_abs_diff(const Buffer<T>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < b.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

}  // namespace

TEST_CASE("one isotropic Gaussian facing the camera: centre pixel = o·c + (1−o)·bg",
          "[raster][forward]") {
  const Camera cam = test_camera(33, 17, 25.f);  // cx = 16.5, cy = 8.5: a pixel centre
  RasterSettings rs;
  rs.background[0] = 0.2f;
  rs.background[1] = 0.4f;
  rs.background[2] = 0.6f;
  const double o = 0.7, z = 2.0;
  HostScene<float> s;
  s.add(0, 0, float(z), std::log(0.1f), float(logit(o)), 0.9f, 0.5f, 0.1f);
  const RasterForward f = render(s, cam, rs);
  const size_t pix = size_t(8) * 33 + 16;
  const float col[3] = {0.9f, 0.5f, 0.1f};
  for (int c = 0; c < 3; ++c) CHECK(f.rgb[pix * 3 + c] == Approx(o * col[c] + (1 - o) * rs.background[c]).epsilon(1e-5));
  CHECK(f.alpha[pix] == Approx(o).epsilon(1e-5));
  CHECK(f.depth[pix] == Approx(o * z).epsilon(1e-5));
  CHECK(f.radii[0] > 0);
  CHECK(f.stats.visible == 1);
  // A pixel one column right sees exp(−½ dᵀΣ⁻¹d) with Σ2D = (f·s/z)² + 0.3.
  const double var = std::pow(25.0 * 0.1 / z, 2) + 0.3;
  CHECK(f.alpha[pix + 1] == Approx(o * std::exp(-0.5 / var)).epsilon(1e-4));
  // Symmetric around the centre.
  CHECK(f.alpha[pix - 1] == Approx(f.alpha[pix + 1]).epsilon(1e-6));

  SECTION("antialiasing scales opacity by sqrt(det Σ / det(Σ + 0.3 I))") {
    rs.antialias = true;
    const RasterForward fa = render(s, cam, rs);
    const double v = std::pow(25.0 * 0.1 / z, 2);
    CHECK(fa.alpha[pix] == Approx(o * v / (v + 0.3)).epsilon(1e-5));
  }
  SECTION("opacity clamps at 0.99") {
    s.opacity_logits[0] = float(logit(0.999));
    CHECK(render(s, cam, rs).alpha[pix] == Approx(0.99).epsilon(1e-6));
  }
}

TEST_CASE("depth order of two Gaussians swaps the result", "[raster][forward]") {
  const Camera cam = test_camera(33, 17, 25.f);
  const size_t pix = size_t(8) * 33 + 16;
  const double o1 = 0.6, o2 = 0.8;
  HostScene<float> s;
  s.add(0, 0, 2.0f, std::log(0.1f), float(logit(o1)), 1, 0, 0);  // red, in front
  s.add(0, 0, 3.0f, std::log(0.15f), float(logit(o2)), 0, 0, 1);  // blue, behind
  RasterForward f = render(s, cam);
  CHECK(f.rgb[pix * 3] == Approx(o1).epsilon(1e-5));
  CHECK(f.rgb[pix * 3 + 2] == Approx((1 - o1) * o2).epsilon(1e-5));
  CHECK(f.depth[pix] == Approx(o1 * 2.0 + (1 - o1) * o2 * 3.0).epsilon(1e-5));
  // Move red behind blue.
  s.means[2] = 4.0f;
  s.log_scales.assign({std::log(0.2f), std::log(0.2f), std::log(0.2f), std::log(0.15f), std::log(0.15f), std::log(0.15f)});
  f = render(s, cam);
  CHECK(f.rgb[pix * 3 + 2] == Approx(o2).epsilon(1e-5));
  CHECK(f.rgb[pix * 3] == Approx((1 - o2) * o1).epsilon(1e-5));
  CHECK(f.alpha[pix] == Approx(1 - (1 - o1) * (1 - o2)).epsilon(1e-5));
}

TEST_CASE("early termination stops before transmittance falls below 1e-4", "[raster][forward]") {
  const Camera cam = test_camera(16, 16, 20.f);
  HostScene<float> s;
  for (int i = 0; i < 12; ++i) s.add(0, 0, 2.0f + 0.1f * i, std::log(0.3f), float(logit(0.9)), 1, 1, 1);
  const RasterForward f = render(s, cam);
  const size_t pix = size_t(8) * 16 + 8;
  // 0.1^4 = 1e-4 exactly at the 4th: blending stops after the 3rd... up to rounding, 3 or 4.
  CHECK(f.final_transmittance[pix] >= 1e-4f);
  CHECK(f.final_transmittance[pix] <= 1.01e-3f);
  CHECK(f.n_contrib[pix] <= 4);
  CHECK(f.rgb[pix * 3] == Approx(1 - f.final_transmittance[pix]).epsilon(1e-5));
}

TEST_CASE("tiled rasterizer matches a brute-force per-pixel reference", "[raster][forward]") {
  std::mt19937 rng(21);
  for (int trial = 0; trial < 6; ++trial) {
    const int w = trial == 0 ? 1 : 13 + 11 * trial, h = trial == 0 ? 1 : 9 + 7 * trial;
    const float focal = 0.9f * float(std::max(w, 2));
    const Camera cam = trial % 2 ? tilted_camera(w, h, focal, 3.f) : test_camera(w, h, focal);
    HostScene<double> s = random_scene(rng, 40, w, h, focal);
    if (trial % 2) move_to_camera_frame(s, cam);
    RasterSettings rs;
    rs.antialias = trial >= 3;
    rs.background[2] = 0.3f;
    INFO("trial " << trial << " (" << w << "x" << h << ")");
    const Reference ref = reference_render(s, cam, rs);
    const RasterForwardT<double> fd = rasterize_forward_cpu<double>(s.inputs(), cam, rs);
    CHECK(max_abs_diff(fd.rgb, ref.rgb) < 1e-12);
    CHECK(max_abs_diff(fd.alpha, ref.alpha) < 1e-12);
    CHECK(max_abs_diff(fd.depth, ref.depth) < 1e-11);
    // The float pipeline agrees with double to float accuracy.
    const RasterForward ff = rasterize_forward(Device::cpu(), s.cast<float>().inputs(), cam, rs);
    CHECK(max_abs_diff(ff.rgb, ref.rgb) < 1e-4);
    CHECK(max_abs_diff(ff.alpha, ref.alpha) < 1e-4);
    CHECK(ff.stats.instances == fd.stats.instances);
    CHECK(ff.stats.visible == fd.stats.visible);
    // radii: 0 exactly for the culled Gaussian behind the camera (the last one).
    CHECK(ff.radii[s.count() - 1] == 0);
  }
}

TEST_CASE("forward and backward do not depend on the thread count", "[raster][forward]") {
  std::mt19937 rng(22);
  const Camera cam = test_camera(70, 45, 60.f);
  const HostScene<float> s = random_scene(rng, 300, 70, 45, 60.f).cast<float>();
  const LossWeights<float> w = random_weights(rng, 70, 45).cast_helper<float>();
  auto run = [&](RasterForward* f, RasterGradients* g) {
    *f = render(s, cam);
    *g = rasterize_backward(Device::cpu(), s.inputs(), cam, {}, *f, w.rgb.data(), w.alpha.data(), w.depth.data());
  };
  RasterForward f1, f2;
  RasterGradients g1, g2;
  run(&f2, &g2);
  {
    ScopedSingleThread single;
    run(&f1, &g1);
  }
  CHECK(f1.rgb.to_host() == f2.rgb.to_host());
  CHECK(f1.sorted_ids.to_host() == f2.sorted_ids.to_host());
  // Gradients are summed per tile, then across tiles in thread order: equal up to rounding.
  const auto a = g1.v_means.to_host(), b = g2.v_means.to_host();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-4).margin(1e-6));
}

TEST_CASE("edge cases: empty, all culled, tiny images", "[raster][forward][edge]") {
  RasterSettings rs;
  rs.background[0] = 0.1f;
  rs.background[1] = 0.2f;
  rs.background[2] = 0.3f;
  for (auto [w, h] : {std::pair{1, 1}, std::pair{17, 33}, std::pair{16, 16}, std::pair{40, 3}}) {
    const Camera cam = test_camera(w, h, 20.f);
    const size_t pixels = size_t(w) * h;
    std::vector<float> v_rgb(pixels * 3, 1.0f);
    SECTION("no Gaussians " + std::to_string(w) + "x" + std::to_string(h)) {
      HostScene<float> s;
      const RasterForward f = render(s, cam, rs);
      for (size_t p = 0; p < pixels; ++p) {
        CHECK(f.rgb[p * 3 + 2] == 0.3f);
        CHECK(f.alpha[p] == 0.f);
        CHECK(f.depth[p] == 0.f);
      }
      CHECK(f.stats.instances == 0);
      const RasterGradients g = rasterize_backward(Device::cpu(), s.inputs(), cam, rs, f, v_rgb.data(), nullptr, nullptr);
      CHECK(g.v_background[0] == Approx(double(pixels)));
      CHECK(g.v_means.size() == 0);
    }
    SECTION("all culled " + std::to_string(w) + "x" + std::to_string(h)) {
      HostScene<float> s;
      s.add(0, 0, -1, 0, 0, 1, 1, 1);     // behind the camera
      s.add(0, 0, 0.1f, 0, 0, 1, 1, 1);   // in front of the near plane
      s.add(500, 0, 2, -3, 0, 1, 1, 1);   // far off screen
      s.add(0, 0, 2, -1, -8, 1, 1, 1);    // opacity below 1/255
      const RasterForward f = render(s, cam, rs);
      CHECK(f.stats.visible == 0);
      CHECK(f.stats.instances == 0);
      for (int i = 0; i < 4; ++i) CHECK(f.radii[size_t(i)] == 0);
      CHECK(f.rgb[0] == 0.1f);
      const RasterGradients g = rasterize_backward(Device::cpu(), s.inputs(), cam, rs, f, v_rgb.data(), nullptr, nullptr);
      for (float v : g.v_means.to_host()) CHECK(v == 0.f);
      for (float v : g.v_opacity_logits.to_host()) CHECK(v == 0.f);
    }
  }
}

TEST_CASE("edge cases: huge and degenerate scales, NaN and Inf inputs", "[raster][forward][edge]") {
  const Camera cam = test_camera(37, 29, 30.f);
  std::mt19937 rng(23);
  HostScene<float> base = random_scene(rng, 20, 37, 29, 30.f).cast<float>();
  const size_t n0 = base.count();
  const RasterForward f0 = render(base, cam);

  SECTION("huge splats are clamped to the image; overflowing ones are culled") {
    HostScene<float> s = base;
    s.add(0, 0, 3, 15.f, 0, 1, 0, 0);    // exp(15) ≈ 3e6: covers everything
    s.add(0, 0, 3, 30.f, 0, 1, 0, 0);    // det Σ2D overflows float: culled
    s.add(0, 0, 0.25f, 5.f, 0, 1, 0, 0); // at the near plane, enormous on screen
    const RasterForward f = render(s, cam);
    CHECK(f.radii[n0] > 0);
    CHECK(f.radii[n0] <= (1 << 30));
    CHECK(f.radii[n0 + 1] == 0);
    // Instances never exceed Gaussians × tiles.
    CHECK(f.stats.instances <= s.count() * size_t(f.tiles_x * f.tiles_y));
    for (float v : f.rgb.to_host()) CHECK(std::isfinite(v));
    std::vector<float> v_rgb(f.rgb.size(), 1.f);
    const RasterGradients g = rasterize_backward(Device::cpu(), s.inputs(), cam, {}, f, v_rgb.data(), nullptr, nullptr);
    for (float v : g.v_means.to_host()) CHECK(std::isfinite(v));
    for (float v : g.v_log_scales.to_host()) CHECK(std::isfinite(v));
  }
  SECTION("degenerate scales and quaternions") {
    HostScene<float> s = base;
    s.add(0, 0, 3, -40.f, 2, 1, 0, 0);  // zero size: a 0.3-px² dot
    s.add(0.1f, 0, 3, 0, 2, 1, 0, 0);
    s.log_scales[(n0 + 1) * 3] = -40.f;  // flat in one axis
    s.add(0.2f, 0, 3, -1, 2, 1, 0, 0);
    std::fill(s.quats.end() - 4, s.quats.end(), 0.f);  // zero quaternion: culled
    const RasterForward f = render(s, cam);
    CHECK(f.radii[n0] > 0);
    CHECK(f.radii[n0 + 1] > 0);
    CHECK(f.radii[n0 + 2] == 0);
    for (float v : f.rgb.to_host()) CHECK(std::isfinite(v));
    std::vector<float> v_rgb(f.rgb.size(), 1.f);
    const RasterGradients g = rasterize_backward(Device::cpu(), s.inputs(), cam, {}, f, v_rgb.data(), nullptr, nullptr);
    for (float v : g.v_quats.to_host()) CHECK(std::isfinite(v));
    for (float v : g.v_log_scales.to_host()) CHECK(std::isfinite(v));
  }
  SECTION("NaN/Inf parameters are skipped and counted") {
    HostScene<float> s = base;
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (int k = 0; k < 6; ++k) s.add(0, 0, 3, -1, 0, 1, 1, 1);
    s.means[n0 * 3] = nan;
    s.log_scales[(n0 + 1) * 3 + 2] = inf;
    s.quats[(n0 + 2) * 4 + 1] = nan;
    s.opacity_logits[n0 + 3] = -inf;
    s.colors[(n0 + 4) * 3 + 1] = nan;
    s.means[(n0 + 5) * 3 + 2] = inf;
    const RasterForward f = render(s, cam);
    CHECK(f.stats.skipped_nonfinite == 6);
    // The image is exactly the image without them.
    CHECK(f.rgb.to_host() == f0.rgb.to_host());
    std::vector<float> v_rgb(f.rgb.size(), 1.f);
    const RasterGradients g = rasterize_backward(Device::cpu(), s.inputs(), cam, {}, f, v_rgb.data(), nullptr, nullptr);
    for (auto* b : {&g.v_means, &g.v_log_scales, &g.v_quats, &g.v_opacity_logits, &g.v_colors})
      for (float v : b->to_host()) CHECK(std::isfinite(v));
  }
}

TEST_CASE("rasterizer buffers are accounted as raster and bounded by the cap", "[raster][forward][memory]") {
  std::mt19937 rng(24);
  const Camera cam = test_camera(64, 48, 50.f);
  const HostScene<float> s = random_scene(rng, 500, 64, 48, 50.f).cast<float>();
  MemoryAccountant& acc = MemoryAccountant::of(DeviceKind::CPU);
  const size_t before = acc.current(MemCategory::raster);
  {
    const RasterForward f = render(s, cam);
    CHECK(acc.current(MemCategory::raster) == before + f.bytes());
    // Held between forward and backward: per Gaussian, per instance and per pixel state only.
    CHECK(f.bytes() <= s.count() * 32 + f.stats.instances * 4 + size_t(64 * 48) * 28 +
                           size_t(f.tiles_x * f.tiles_y) * 16);
  }
  CHECK(acc.current(MemCategory::raster) == before);
  {
    ScopedMemoryCap cap(DeviceKind::CPU, acc.current_total() + 20000);
    CHECK_THROWS_AS(render(s, cam), BudgetExceeded);
  }
  CHECK(acc.current(MemCategory::raster) == before);
}

TEST_CASE("bad arguments give clear errors", "[raster][forward][edge]") {
  HostScene<float> s;
  s.add(0, 0, 2, -1, 0, 1, 1, 1);
  Camera cam = test_camera(16, 16, 20.f);
  cam.width = 0;
  CHECK_THROWS_AS(render(s, cam), Error);
  cam = test_camera(16, 16, 20.f);
  cam.fx = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(render(s, cam), Error);
  cam = test_camera(16, 16, 20.f);
  GaussianInputs in = s.inputs();
  in.colors = nullptr;
  CHECK_THROWS_AS(rasterize_forward(Device::cpu(), in, cam, {}), Error);
  if (!built_with_cuda()) CHECK_THROWS_AS(rasterize_forward(Device::cuda(0), s.inputs(), cam, {}), Error);
}
