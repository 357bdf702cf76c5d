// drivestudio's sharp-shape regulariser: a closed-form case, the gradient against central
// differences of the loss in double, Gaussians below the ratio untouched, and CUDA = CPU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/buffer.h"
#include "scene/sharp_shape.h"
#include "tests/test_support.h"

using namespace gs;

TEST_CASE("sharp shape: a needle 20x longer than wide is pulled back, a ball is not",
          "[sharp_shape]") {
  // Gaussian 0: scales (20, 1, 1) → ratio 20; Gaussian 1: (1, 2, 1) → ratio 2 < 10.
  const std::vector<float> ls = {float(std::log(20.0)), 0.f, 0.f, 0.f, float(std::log(2.0)), 0.f};
  const double w = 0.5;
  CHECK(sharp_shape_loss(ls, 10.0, w) == Approx(w * (20.0 - 10.0) / 2));
  std::vector<float> g(6, 1.f);  // added to
  add_sharp_shape_gradient(Device::cpu(), 2, ls.data(), 10.0, w, g.data());
  CHECK(g[0] == Approx(1 + w / 2 * 20));  // ∂/∂ls_max = w/N · r
  CHECK(g[1] == Approx(1 - w / 2 * 20));  // ∂/∂ls_min = −w/N · r (the first of the tied minima)
  CHECK(g[2] == 1.f);
  for (size_t i = 3; i < 6; ++i) CHECK(g[i] == 1.f);
}

TEST_CASE("sharp shape: the gradient matches central differences in double", "[sharp_shape]") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  const size_t n = 200;
  std::vector<float> ls(3 * n);
  for (float& x : ls) x = u(rng);  // ratios up to e^4 ≈ 55: about half above 10
  const double w = 1.0, limit = 10.0;
  std::vector<float> g(3 * n, 0.f);
  add_sharp_shape_gradient(Device::cpu(), n, ls.data(), limit, w, g.data());
  size_t active = 0;
  for (size_t k = 0; k < 3 * n; ++k) {
    const float h = 1e-3f;
    std::vector<float> plus = ls, minus = ls;
    plus[k] += h;
    minus[k] -= h;
    // Skip entries where the step changes which axis is the largest or smallest, or crosses the
    // ratio: the loss is only piecewise smooth.
    const float* row = &ls[3 * (k / 3)];
    const double r = std::exp(double(std::max({row[0], row[1], row[2]})) -
                              double(std::min({row[0], row[1], row[2]})));
    if (std::abs(r - limit) < 0.1) continue;
    const double fd = (sharp_shape_loss(plus, limit, w) - sharp_shape_loss(minus, limit, w)) /
                      (double(plus[k]) - double(minus[k]));
    INFO("entry " << k);
    CHECK(g[k] == Approx(fd).margin(1e-5).epsilon(1e-3));
    active += g[k] != 0.f ? 1 : 0;
  }
  CHECK(active > 100);
}

TEST_CASE("CUDA sharp-shape gradient matches the CPU: 200k Gaussians", "[sharp_shape][cuda]") {
  if (!gs::test::have_gpu()) return;
  const Device gpu = Device::cuda(0);
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> u(-3.f, 3.f);
  const size_t n = 200000;
  std::vector<float> ls(3 * n), g0(3 * n);
  for (float& x : ls) x = u(rng);
  for (float& x : g0) x = u(rng);
  std::vector<float> cpu = g0;
  add_sharp_shape_gradient(Device::cpu(), n, ls.data(), 10.0, 1.0, cpu.data());
  const Buffer<float> d_ls = Buffer<float>::from_host(gpu, ls, MemCategory::other);
  Buffer<float> d_g = Buffer<float>::from_host(gpu, g0, MemCategory::other);
  add_sharp_shape_gradient(gpu, n, d_ls.data(), 10.0, 1.0, d_g.data());
  const std::vector<float> cuda = d_g.to_host();
  double worst = 0;
  for (size_t i = 0; i < cpu.size(); ++i)
    worst = std::max(worst, double(std::abs(cuda[i] - cpu[i])) / (1.0 + std::abs(cpu[i])));
  // One expf and two float adds per entry: the backends may differ by a few ulps.
  CHECK(worst < 1e-5);
}

TEST_CASE("max scale square: the largest scale of each Gaussian is pulled in, as FD says",
          "[sharp_shape]") {
  // Closed form: scales (2, 1, 0.5) → max² = 4; (1, 3, 1) → 9.
  const std::vector<float> ls = {float(std::log(2.0)), 0.f, float(std::log(0.5)),
                                 0.f, float(std::log(3.0)), 0.f};
  CHECK(max_scale_square_loss(ls, 0.05) == Approx(0.05 * (4 + 9) / 2));
  std::vector<float> g(6, 0.f);
  add_max_scale_square_gradient(Device::cpu(), 2, ls.data(), 0.05, g.data());
  CHECK(g[0] == Approx(0.05 / 2 * 2 * 4));
  CHECK(g[4] == Approx(0.05 / 2 * 2 * 9));
  CHECK((g[1] == 0.f && g[2] == 0.f && g[3] == 0.f && g[5] == 0.f));
  // Random Gaussians against central differences in double (away from ties of the max).
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.f, 1.f);
  std::vector<float> r(300);
  for (float& x : r) x = u(rng);
  std::vector<float> gr(r.size(), 0.f);
  add_max_scale_square_gradient(Device::cpu(), r.size() / 3, r.data(), 0.05, gr.data());
  size_t checked = 0, wrong = 0;
  for (size_t k = 0; k < r.size(); ++k) {
    const float* row = &r[3 * (k / 3)];
    const float top = std::max({row[0], row[1], row[2]});
    const float second = row[0] + row[1] + row[2] - top - std::min({row[0], row[1], row[2]});
    if (top - second < 0.01f) continue;
    std::vector<float> plus = r, minus = r;
    plus[k] += 1e-3f;
    minus[k] -= 1e-3f;
    const double fd = (max_scale_square_loss(plus, 0.05) - max_scale_square_loss(minus, 0.05)) /
                      (double(plus[k]) - double(minus[k]));
    ++checked;
    wrong += std::abs(gr[k] - fd) <= 1e-6 + 1e-3 * std::abs(fd) ? 0 : 1;
  }
  CHECK(checked > 250);
  CHECK(wrong == 0);
}
