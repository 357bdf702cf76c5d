// drivestudio's out-of-bound loss: a closed-form case, the gradient against central differences
// of the loss in double, and CUDA = CPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "core/buffer.h"
#include "scene/box_bound.h"
#include "tests/test_support.h"

using namespace gs;

TEST_CASE("out of bound: only coordinates past their box's half side are pulled back",
          "[box_bound]") {
  // Two instances: boxes 2 × 4 × 1 and 1 × 1 × 1 (given as 1 / side).
  const std::vector<float> inv = {0.5f, 0.25f, 1.f, 1.f, 1.f, 1.f};
  const std::vector<int32_t> tags = {0, 1};
  // Gaussian 0: x 1.5 > 1 (out by 0.5), y −1 inside 2, z −0.75 < −0.5 (out by 0.25);
  // Gaussian 1: inside.
  const std::vector<float> means = {1.5f, -1.f, -0.75f, 0.2f, -0.4f, 0.f};
  const double w = 0.6;
  CHECK(out_of_bound_loss(means, tags, inv, w) == Approx(w * (0.5 + 0.25) / 6));
  std::vector<float> g(6, 0.f);
  add_out_of_bound_gradient(Device::cpu(), 2, means.data(), tags.data(), inv.data(), 2, w,
                            g.data());
  CHECK(g[0] == Approx(w / 6));
  CHECK(g[1] == 0.f);
  CHECK(g[2] == Approx(-w / 6));
  for (size_t i = 3; i < 6; ++i) CHECK(g[i] == 0.f);
}

TEST_CASE("out of bound: a Gaussian whose tag names no instance has no box and no gradient",
          "[box_bound]") {
  // Tags −1 and 1 with one instance: both outside [0, 1), e.g. left by a checkpoint until the
  // next densify culls them. They must not index past the boxes (on CUDA: a fault).
  const std::vector<float> inv = {1.f, 1.f, 1.f};
  const std::vector<int32_t> tags = {0, -1, 1};
  const std::vector<float> means = {2.f, 0.f, 0.f, 5.f, 5.f, 5.f, -5.f, -5.f, -5.f};
  CHECK(out_of_bound_loss(means, tags, inv, 1.0) == Approx(1.5 / 9));
  std::vector<float> g(9, 0.f);
  add_out_of_bound_gradient(Device::cpu(), 3, means.data(), tags.data(), inv.data(), 1, 1.0,
                            g.data());
  CHECK(g[0] == Approx(1.0 / 9));
  for (size_t i = 1; i < 9; ++i) CHECK(g[i] == 0.f);
}

TEST_CASE("out of bound: the gradient matches central differences in double", "[box_bound]") {
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-1.5f, 1.5f), side(0.5f, 2.f);
  const size_t n = 300, K = 4;
  std::vector<float> inv(3 * K), means(3 * n);
  std::vector<int32_t> tags(n);
  for (float& x : inv) x = 1.f / side(rng);
  for (float& x : means) x = u(rng);
  for (size_t i = 0; i < n; ++i) tags[i] = int32_t(i % K);
  std::vector<float> g(3 * n, 0.f);
  add_out_of_bound_gradient(Device::cpu(), n, means.data(), tags.data(), inv.data(), K, 1.0,
                            g.data());
  size_t checked = 0, active = 0;
  for (size_t k = 0; k < 3 * n; ++k) {
    const double half = 0.5 / double(inv[3 * size_t(tags[k / 3]) + k % 3]);
    if (std::abs(std::abs(double(means[k])) - half) < 0.01) continue;  // the kink
    std::vector<float> plus = means, minus = means;
    plus[k] += 1e-3f;
    minus[k] -= 1e-3f;
    const double fd = (out_of_bound_loss(plus, tags, inv, 1.0) -
                       out_of_bound_loss(minus, tags, inv, 1.0)) /
                      (double(plus[k]) - double(minus[k]));
    INFO("coordinate " << k);
    CHECK(g[k] == Approx(fd).margin(1e-7).epsilon(1e-3));
    ++checked;
    active += g[k] != 0.f ? 1 : 0;
  }
  CHECK(checked > 800);
  CHECK(active > 100);
}

TEST_CASE("CUDA out-of-bound gradient matches the CPU: 200k Gaussians", "[box_bound][cuda]") {
  if (!gs::test::have_gpu()) return;
  const Device gpu = Device::cuda(0);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-2.f, 2.f), side(0.5f, 3.f);
  const size_t n = 200000, K = 16;
  std::vector<float> inv(3 * K), means(3 * n), g0(3 * n);
  std::vector<int32_t> tags(n);
  for (float& x : inv) x = 1.f / side(rng);
  for (float& x : means) x = u(rng);
  for (float& x : g0) x = u(rng);
  for (size_t i = 0; i < n; ++i) tags[i] = int32_t((i * 7) % (K + 2)) - 1;  // −1 … K: two strays
  std::vector<float> cpu = g0;
  add_out_of_bound_gradient(Device::cpu(), n, means.data(), tags.data(), inv.data(), K, 1.0,
                            cpu.data());
  const auto d_means = Buffer<float>::from_host(gpu, means, MemCategory::other);
  const auto d_inv = Buffer<float>::from_host(gpu, inv, MemCategory::other);
  const auto d_tags = Buffer<int32_t>::from_host(gpu, tags, MemCategory::other);
  auto d_g = Buffer<float>::from_host(gpu, g0, MemCategory::other);
  add_out_of_bound_gradient(gpu, n, d_means.data(), d_tags.data(), d_inv.data(), K, 1.0,
                            d_g.data());
  CHECK(d_g.to_host() == cpu);  // the same comparisons and one float add: bit-identical
}
