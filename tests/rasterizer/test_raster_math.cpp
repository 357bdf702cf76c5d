// Unit checks of every per-element rasterizer function's hand-written backward against
// double-precision central finite differences, and of the tile/ellipse geometry against brute
// force.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "rasterizer/blend_math.h"
#include "rasterizer/projection_math.h"
#include "rasterizer/sh_math.h"

using namespace gs::rmath;
using Vec = std::vector<double>;

namespace {

// Central differences of a scalar function of a parameter vector.
Vec numeric_grad(const std::function<double(const Vec&)>& f, Vec x, double h = 1e-6) {
  Vec g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double fp = f(x);
    x[i] = x0 - h;
    const double fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

void require_close(const Vec& analytic, const Vec& numeric, double tol = 1e-6) {
  REQUIRE(analytic.size() == numeric.size());
  for (size_t i = 0; i < analytic.size(); ++i) {
    INFO("component " << i << ": analytic " << analytic[i] << " numeric " << numeric[i]);
    CHECK(std::abs(analytic[i] - numeric[i]) <= tol * (1 + std::abs(numeric[i])));
  }
}

Vec random_vec(std::mt19937& rng, size_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  Vec v(n);
  for (double& x : v) x = u(rng);
  return v;
}

Mat3<double> mat_from(const Vec& v, size_t at = 0) {
  Mat3<double> m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m.m[i][j] = v[at + i * 3 + j];
  return m;
}

Mat3<double> symmetrized(const Mat3<double>& a) {
  Mat3<double> s;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) s.m[i][j] = 0.5 * (a.m[i][j] + a.m[j][i]);
  return s;
}

double frob(const Mat3<double>& a, const Mat3<double>& b) {
  double s = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) s += a.m[i][j] * b.m[i][j];
  return s;
}

ProjCamera<double> math_camera() {
  ProjCamera<double> c;
  const Vec4<double> q = {0.9, 0.1, -0.3, 0.2};
  c.rot = quat_to_rotmat(q);
  c.trans = {0.1, -0.2, 0.3};
  c.fx = 40;
  c.fy = 44;
  c.cx = 15;
  c.cy = 11;
  c.width = 32;
  c.height = 24;
  c.lim_x_pos = 1.3 * (32 - 15) / 40.0;
  c.lim_x_neg = 1.3 * 15 / 40.0;
  c.lim_y_pos = 1.3 * (24 - 11) / 44.0;
  c.lim_y_neg = 1.3 * 11 / 44.0;
  return c;
}

}  // namespace

TEST_CASE("quaternion to rotation: orthonormal, and its backward matches finite differences",
          "[raster][math]") {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 5; ++trial) {
    const Vec q = random_vec(rng, 4);
    const Mat3<double> r = quat_to_rotmat(Vec4<double>{q[0], q[1], q[2], q[3]});
    const Mat3<double> rrt = mul(r, transpose(r));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) CHECK(rrt.m[i][j] == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
    const Mat3<double> w = mat_from(random_vec(rng, 9));
    auto f = [&](const Vec& x) { return frob(w, quat_to_rotmat(Vec4<double>{x[0], x[1], x[2], x[3]})); };
    const Vec4<double> g = v_quat_to_rotmat(Vec4<double>{q[0], q[1], q[2], q[3]}, w);
    require_close({g.w, g.x, g.y, g.z}, numeric_grad(f, q));
  }
}

TEST_CASE("3D covariance backward matches finite differences", "[raster][math]") {
  std::mt19937 rng(2);
  for (int trial = 0; trial < 5; ++trial) {
    const Vec x = random_vec(rng, 7);  // log-scales, quaternion
    const Mat3<double> w = mat_from(random_vec(rng, 9));
    auto f = [&](const Vec& p) {
      return frob(w, covariance_3d(Vec3<double>{p[0], p[1], p[2]}, Vec4<double>{p[3], p[4], p[5], p[6]}));
    };
    Vec3<double> vs;
    Vec4<double> vq;
    v_covariance_3d(Vec3<double>{x[0], x[1], x[2]}, Vec4<double>{x[3], x[4], x[5], x[6]}, w, &vs, &vq);
    require_close({vs.x, vs.y, vs.z, vq.w, vq.x, vq.y, vq.z}, numeric_grad(f, x));
  }
}

TEST_CASE("EWA projection backward matches finite differences, inside and past the FOV clamp",
          "[raster][math]") {
  std::mt19937 rng(3);
  const ProjCamera<double> cam = math_camera();
  // The view covariance is a parameter too: Σv = (P + Pᵀ)/2 for a free 3×3 P.
  const std::vector<Vec> means = {{0.1, -0.2, 2.0}, {2.5, 0.1, 2.0}, {-0.3, -1.8, 1.5}, {-3, 2.5, 2.2}};
  for (const Vec& m : means) {
    Vec x = m;
    const Vec cv = random_vec(rng, 9);
    x.insert(x.end(), cv.begin(), cv.end());
    const Vec w = random_vec(rng, 5);
    auto f = [&](const Vec& p) {
      const Vec3<double> t = {p[0], p[1], p[2]};
      const Vec2<double> m2 = project_mean(cam, t);
      const Sym2<double> c = project_covariance(ewa_jacobian(cam, t), symmetrized(mat_from(p, 3)));
      return w[0] * m2.x + w[1] * m2.y + w[2] * c.a + w[3] * c.b + w[4] * c.c;
    };
    Vec3<double> vt = {0, 0, 0};
    const Mat3<double> vcv = symmetrized(v_project_ewa(cam, Vec3<double>{x[0], x[1], x[2]},
                                                       symmetrized(mat_from(x, 3)), Vec2<double>{w[0], w[1]},
                                                       Sym2<double>{w[2], w[3], w[4]}, &vt));
    Vec a = {vt.x, vt.y, vt.z};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) a.push_back(vcv.m[i][j]);
    require_close(a, numeric_grad(f, x));
  }
}

TEST_CASE("conic, antialias compensation and their backward", "[raster][math]") {
  std::mt19937 rng(4);
  for (int trial = 0; trial < 5; ++trial) {
    const Vec r = random_vec(rng, 3, 0.1, 2.0);
    const Vec x = {r[0] * r[0] + 0.2, 0.3 * r[0] * r[1], r[1] * r[1] + 0.1};  // positive definite
    const Vec w = random_vec(rng, 4);
    auto f = [&](const Vec& p) {
      const Sym2<double> s = {p[0], p[1], p[2]};
      const Sym2<double> inv = inverse(dilate(s));
      return w[0] * inv.a + w[1] * inv.b + w[2] * inv.c + w[3] * antialias_compensation(s);
    };
    const Sym2<double> s = {x[0], x[1], x[2]};
    const Sym2<double> g1 = v_inverse(inverse(dilate(s)), Sym2<double>{w[0], w[1], w[2]});
    const Sym2<double> g2 = v_antialias_compensation(s, w[3]);
    require_close({g1.a + g2.a, g1.b + g2.b, g1.c + g2.c}, numeric_grad(f, x));
    // inverse really inverts
    const Sym2<double> inv = inverse(s);
    CHECK(s.a * inv.a + s.b * inv.b == Approx(1.0));
    CHECK(s.a * inv.b + s.b * inv.c == Approx(0.0).margin(1e-12));
  }
}

TEST_CASE("whole per-Gaussian projection backward matches finite differences", "[raster][math]") {
  std::mt19937 rng(5);
  const ProjCamera<double> cam = math_camera();
  for (bool antialias : {false, true}) {
    for (int trial = 0; trial < 6; ++trial) {
      // mean in front of the camera (world frame: invert the camera transform of a view point)
      const Vec view = {0.8 * (trial - 3) * 0.5, 0.3, 1.0 + trial * 0.7};
      Vec3<double> vt = {view[0] - cam.trans.x, view[1] - cam.trans.y, view[2] - cam.trans.z};
      const Vec3<double> mw = mul_transposed(cam.rot, vt);
      Vec x = {mw.x, mw.y, mw.z};
      const Vec ls = random_vec(rng, 3, -3.0, -0.5), q = random_vec(rng, 4);
      x.insert(x.end(), ls.begin(), ls.end());
      x.insert(x.end(), q.begin(), q.end());
      x.push_back(0.7);  // opacity logit
      const Vec w = random_vec(rng, 7);
      auto f = [&](const Vec& p) {
        ProjectedGaussian<double> o{};
        REQUIRE(project_gaussian(cam, Vec3<double>{p[0], p[1], p[2]}, Vec3<double>{p[3], p[4], p[5]},
                                 Vec4<double>{p[6], p[7], p[8], p[9]}, p[10], antialias, 0.2, &o));
        return w[0] * o.mean2d.x + w[1] * o.mean2d.y + w[2] * o.conic.a + w[3] * o.conic.b +
               w[4] * o.conic.c + w[5] * o.opacity + w[6] * o.depth;
      };
      Vec3<double> vm, vs;
      Vec4<double> vq;
      double vo;
      v_project_gaussian(cam, Vec3<double>{x[0], x[1], x[2]}, Vec3<double>{x[3], x[4], x[5]},
                         Vec4<double>{x[6], x[7], x[8], x[9]}, x[10], antialias,
                         Vec2<double>{w[0], w[1]}, Sym2<double>{w[2], w[3], w[4]}, w[5], w[6], &vm,
                         &vs, &vq, &vo);
      require_close({vm.x, vm.y, vm.z, vs.x, vs.y, vs.z, vq.w, vq.x, vq.y, vq.z, vo},
                    numeric_grad(f, x, 1e-7), 2e-6);
    }
  }
}

TEST_CASE("splat alpha backward matches finite differences, and clamps", "[raster][math]") {
  std::mt19937 rng(6);
  for (int trial = 0; trial < 8; ++trial) {
    const Vec x = {0.4, 0.1, 0.3, 0.7, 1.2, -0.8};  // conic a b c, opacity, mean x y
    Vec p = x;
    p[3] = 0.3 + 0.08 * trial;
    auto f = [&](const Vec& v) {
      return splat_alpha(Sym2<double>{v[0], v[1], v[2]}, v[3], 0.5 - v[4], 0.5 - v[5]);
    };
    const double dx = 0.5 - p[4], dy = 0.5 - p[5];
    const SplatGrad<double> g = v_splat_alpha(Sym2<double>{p[0], p[1], p[2]}, p[3], dx, dy, 1.0);
    require_close({g.conic.a, g.conic.b, g.conic.c, g.opacity, g.mean2d.x, g.mean2d.y},
                  numeric_grad(f, p));
  }
  // α clamps at 0.99 (no gradient there) and vanishes below 1/255.
  CHECK(splat_alpha(Sym2<double>{1, 0, 1}, 0.999, 0.0, 0.0) == 0.99);
  CHECK(v_splat_alpha(Sym2<double>{1, 0, 1}, 0.999, 0.0, 0.0, 1.0).opacity == 0.0);
  CHECK(splat_alpha(Sym2<double>{1, 0, 1}, 0.5, 4.0, 0.0) == 0.0);  // 0.5·e⁻⁸ < 1/255
  (void)rng;
}

TEST_CASE("the backward's alpha-and-exponential is splat_alpha and v_splat_alpha exactly",
          "[raster][math]") {
  // The tile loops take α and exp(power) from one evaluation; they must be bit-identical to the
  // two separate calls, in float (the CPU and CUDA loops) and in double.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> conic(0.01f, 2.f), off(-0.3f, 0.3f), o(0.f, 1.f),
      d(-6.f, 6.f), g(-1.f, 1.f);
  size_t nonzero = 0;
  for (int t = 0; t < 20000; ++t) {
    const Sym2<float> c{conic(rng), off(rng), conic(rng)};
    const float op = o(rng), dx = d(rng), dy = d(rng), v = g(rng);
    const AlphaAndGauss<float> ag = splat_alpha_and_gauss(c, op, dx, dy);
    REQUIRE(ag.alpha == splat_alpha(c, op, dx, dy));
    if (!(ag.alpha > 0.f)) continue;
    ++nonzero;
    const SplatGrad<float> a = v_splat_alpha_given(c, op, dx, dy, ag.gauss, v);
    const SplatGrad<float> b = v_splat_alpha(c, op, dx, dy, v);
    REQUIRE(a.mean2d.x == b.mean2d.x);
    REQUIRE(a.mean2d.y == b.mean2d.y);
    REQUIRE(a.conic.a == b.conic.a);
    REQUIRE(a.conic.b == b.conic.b);
    REQUIRE(a.conic.c == b.conic.c);
    REQUIRE(a.opacity == b.opacity);
  }
  CHECK(nonzero > 2000);
  const AlphaAndGauss<double> ag = splat_alpha_and_gauss(Sym2<double>{1, 0, 1}, 0.999, 0.0, 0.0);
  CHECK(ag.alpha == 0.99);  // clamped, with exp(0) = 1 kept for the clamp test of the gradient
  CHECK(ag.gauss == 1.0);
}

TEST_CASE("pixel blend backward matches finite differences of a whole pixel", "[raster][math]") {
  // Five Gaussians over one pixel: α, colour and depth of each as parameters.
  std::mt19937 rng(7);
  const int k = 5;
  const Vec x0 = random_vec(rng, size_t(k) * 5, 0.1, 0.8);  // α, r, g, b, z per Gaussian
  const double bg[3] = {0.25, 0.5, 0.75};
  const Vec w = random_vec(rng, 5);  // rgb, alpha, depth weights
  auto render = [&](const Vec& p, double* t_final) {
    PixelBlend<double> pb;
    for (int j = 0; j < k; ++j) pb.add(j, p[j * 5], &p[j * 5 + 1], p[j * 5 + 4]);
    if (t_final) *t_final = pb.trans;
    double l = w[3] * (1 - pb.trans) + w[4] * pb.depth;
    for (int c = 0; c < 3; ++c) l += w[c] * (pb.rgb[c] + pb.trans * bg[c]);
    return l;
  };
  double t_final;
  render(x0, &t_final);
  PixelBlendGrad<double> pg(t_final, w.data(), w[3], w[4], bg);
  Vec a(x0.size(), 0.0);
  for (int j = k - 1; j >= 0; --j) {
    double vz = 0, vc[3] = {0, 0, 0};
    a[size_t(j) * 5] = pg.step(x0[size_t(j) * 5], &x0[size_t(j) * 5 + 1], x0[size_t(j) * 5 + 4], vc, &vz);
    for (int c = 0; c < 3; ++c) a[size_t(j) * 5 + 1 + c] = vc[c];
    a[size_t(j) * 5 + 4] = vz;
  }
  require_close(a, numeric_grad([&](const Vec& p) { return render(p, nullptr); }, x0));
  CHECK(pg.trans == Approx(1.0));
}

TEST_CASE("SH basis and SH to colour backward, degrees 0-3", "[raster][math]") {
  std::mt19937 rng(8);
  for (int degree = 0; degree <= 3; ++degree) {
    const int kc = (degree + 1) * (degree + 1);
    Vec x = random_vec(rng, 3);  // unnormalised direction
    x[2] += 1.5;
    const Vec sh = random_vec(rng, size_t(kc) * 3, -0.5, 0.5);
    x.insert(x.end(), sh.begin(), sh.end());
    const Vec w = random_vec(rng, 3);
    auto f = [&](const Vec& p) {
      const Vec3<double> c = sh_to_color(degree, &p[3], Vec3<double>{p[0], p[1], p[2]});
      return w[0] * c.x + w[1] * c.y + w[2] * c.z;
    };
    Vec v_sh(size_t(kc) * 3);
    const Vec3<double> vd =
        v_sh_to_color(degree, &x[3], Vec3<double>{x[0], x[1], x[2]}, Vec3<double>{w[0], w[1], w[2]}, v_sh.data());
    Vec a = {vd.x, vd.y, vd.z};
    a.insert(a.end(), v_sh.begin(), v_sh.end());
    INFO("degree " << degree);
    require_close(a, numeric_grad(f, x));
  }
  // Degree 0 is a constant: colour = C0·sh + 0.5, clamped at 0.
  const double sh0[3] = {1.0, -0.5, -3.0};
  const Vec3<double> c = sh_to_color(0, sh0, Vec3<double>{0, 0, 1});
  CHECK(c.x == Approx(kShC0 + 0.5));
  CHECK(c.y == Approx(0.5 - 0.5 * kShC0));
  CHECK(c.z == 0.0);
  // Orthonormality spot check: ∫ Y_k² over the sphere = 1 (Monte Carlo on a Fibonacci sphere).
  const int samples = 20000;
  double sum[16] = {};
  for (int i = 0; i < samples; ++i) {
    const double zc = 1 - 2 * (i + 0.5) / samples, r = std::sqrt(1 - zc * zc);
    const double phi = i * 2.399963229728653;
    double y[16];
    sh_basis(3, Vec3<double>{r * std::cos(phi), r * std::sin(phi), zc}, y);
    for (int k = 0; k < 16; ++k) sum[k] += y[k] * y[k];
  }
  for (int k = 0; k < 16; ++k) CHECK(sum[k] * 4 * M_PI / samples == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("tile rectangle and ellipse test agree with brute force over pixels", "[raster][math]") {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  const int width = 53, height = 37, tile = 16;
  const int tiles_x = (width + tile - 1) / tile, tiles_y = (height + tile - 1) / tile;
  int touched_total = 0, rect_total = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Vec2<double> m = {-10 + 73 * u(rng), -10 + 57 * u(rng)};
    const double sx = 0.5 + 12 * u(rng), sy = 0.5 + 12 * u(rng), rho = 0.95 * (2 * u(rng) - 1);
    const Sym2<double> cov = {sx * sx, rho * sx * sy, sy * sy};
    const Sym2<double> con = inverse(cov);
    const double o = 0.01 + 0.98 * u(rng);
    const double e2 = extent_sq(o);
    const double r = std::sqrt(e2);
    const TileRect rect = tile_rect(m, r * std::sqrt(cov.a), r * std::sqrt(cov.c), width, height, tile);
    for (int ty = 0; ty < tiles_y; ++ty)
      for (int tx = 0; tx < tiles_x; ++tx) {
        // Brute force: does any pixel centre of the tile get α ≥ 1/255?
        bool any = false;
        for (int py = ty * tile; py < std::min(height, ty * tile + tile) && !any; ++py)
          for (int px = tx * tile; px < std::min(width, tx * tile + tile) && !any; ++px)
            any = splat_alpha(con, o, px + 0.5 - m.x, py + 0.5 - m.y) > 0;
        const bool in_rect = tx >= rect.x0 && tx < rect.x1 && ty >= rect.y0 && ty < rect.y1;
        const bool test = in_rect && ellipse_touches_tile(m, con, e2, tx, ty, width, height, tile);
        if (any) {
          INFO("trial " << trial << " tile " << tx << "," << ty);
          CHECK(test);  // never culls a tile that has a visible pixel
        }
        touched_total += any;
        rect_total += test;
      }
  }
  // The ellipse test is tight: few tiles kept that no pixel centre needs.
  CHECK(rect_total <= touched_total * 1.05 + 5);
}
