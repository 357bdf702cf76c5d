// The translations' temporal smoothness: a closed-form case (which instances count, the sign,
// the 2w/(3V) scale, the tie at zero) and CUDA = CPU on a pose table of realistic size.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "core/buffer.h"
#include "scene/temporal_smoothness.h"
#include "tests/test_support.h"

using namespace gs;

TEST_CASE("temporal smoothness: -2w/(3V) times the sign of the second difference, only on "
          "instances present in all three frames",
          "[temporal]") {
  // Three instances; instance 2 is absent from the `after` frame, so V = 2.
  const std::vector<float> before = {0, 0, 0, 1, 1, 1, 5, 5, 5};
  const std::vector<float> own = {1, 0, -1, 1, 1, 1, 0, 0, 0};
  const std::vector<float> after = {0, 0, 0, 1, 1, 3, 5, 5, 5};
  const std::vector<uint8_t> all = {1, 1, 1}, two = {1, 1, 0};
  std::vector<float> g(9, 0.5f);
  const double w = 0.01, s = 2 * w / (3 * 2);
  add_translation_smoothness_gradient(Device::cpu(), 3, {before.data(), all.data()},
                                      {own.data(), all.data()}, {after.data(), two.data()}, 2, w,
                                      g.data());
  // Instance 0: second differences −2, 0, +2 → +s, 0 (sign 0), −s.
  CHECK(g[0] == Approx(0.5 + s));
  CHECK(g[1] == 0.5f);
  CHECK(g[2] == Approx(0.5 - s));
  // Instance 1: 0, 0, +2.
  CHECK(g[3] == 0.5f);
  CHECK(g[4] == 0.5f);
  CHECK(g[5] == Approx(0.5 - s));
  // Instance 2: absent from one frame, untouched.
  for (size_t i = 6; i < 9; ++i) CHECK(g[i] == 0.5f);
  // V = 0 or w = 0: nothing.
  std::vector<float> h(9, 0.f);
  add_translation_smoothness_gradient(Device::cpu(), 3, {before.data(), all.data()},
                                      {own.data(), all.data()}, {after.data(), two.data()}, 0, w,
                                      h.data());
  CHECK(h == std::vector<float>(9, 0.f));
}

TEST_CASE("CUDA temporal smoothness matches the CPU: 300 frames x 200 instances",
          "[temporal][cuda]") {
  if (!gs::test::have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const size_t F = 300, K = 200;
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-20.f, 20.f);
  std::bernoulli_distribution in_frame(0.8);
  std::vector<float> trans(F * K * 3), g0(K * 3);
  std::vector<uint8_t> present(F * K);
  for (float& x : trans) x = u(rng);
  for (float& x : g0) x = u(rng) * 1e-3f;
  for (auto& p : present) p = in_frame(rng);
  const auto d_trans = Buffer<float>::from_host(gpu, trans, MemCategory::other);
  const auto d_present = Buffer<uint8_t>::from_host(gpu, present, MemCategory::other);
  for (int f : {5, 150, 294}) {
    const int d = 1 + f % 5;
    size_t valid = 0;
    for (size_t k = 0; k < K; ++k)
      valid += present[(f - d) * K + k] && present[f * K + k] && present[(f + d) * K + k];
    auto host_row = [&](int r) {
      return TranslationRow{trans.data() + size_t(r) * K * 3, present.data() + size_t(r) * K};
    };
    auto dev_row = [&](int r) {
      return TranslationRow{d_trans.data() + size_t(r) * K * 3, d_present.data() + size_t(r) * K};
    };
    std::vector<float> cpu = g0;
    add_translation_smoothness_gradient(Device::cpu(), K, host_row(f - d), host_row(f),
                                        host_row(f + d), valid, 0.01, cpu.data());
    auto d_g = Buffer<float>::from_host(gpu, g0, MemCategory::other);
    add_translation_smoothness_gradient(gpu, K, dev_row(f - d), dev_row(f), dev_row(f + d), valid,
                                        0.01, d_g.data());
    INFO("frame " << f);
    CHECK(d_g.to_host() == cpu);  // the same double sign and one float subtraction
  }
}
