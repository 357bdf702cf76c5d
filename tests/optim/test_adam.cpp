// Adam: steps against hand-computed and straightforward double references, the gradient reset,
// row masks and moment resets, the 3DGS position-lr schedule, and CPU/CUDA parity.
#include <catch2/catch.hpp>

#include "tests/test_support.h"
#include <cmath>
#include <random>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "core/errors.h"
#include "optim/adam.h"
#include "optim/adam_split.h"

using namespace gs;

namespace {

// A parameter group over buffers on one device.
struct GroupBuffers {
  Buffer<float> p, g, m, v;
  ParamGroup group;
  GroupBuffers(const Device& d, const std::vector<float>& params, const std::vector<float>& grads,
               double lr)
      : p(Buffer<float>::from_host(d, params, MemCategory::params)),
        g(Buffer<float>::from_host(d, grads, MemCategory::grads)),
        m(Buffer<float>::zeros(d, params.size(), MemCategory::optimizer)),
        v(Buffer<float>::zeros(d, params.size(), MemCategory::optimizer)) {
    group.name = "test";
    group.params = p.data();
    group.grads = g.data();
    group.m = m.data();
    group.v = v.data();
    group.count = params.size();
    group.lr = lr;
  }
};

// The textbook algorithm (torch.optim.Adam), in double, one element at a time.
struct RefAdam {
  double p, m = 0, v = 0;
  void step(double g, int t, double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-15) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double m_hat = m / (1 - std::pow(b1, t));
    const double v_hat = v / (1 - std::pow(b2, t));
    p -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
};

std::vector<float> random_vector(size_t n, unsigned seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> out(n);
  for (float& x : out) x = u(rng);
  return out;
}

}  // namespace

TEST_CASE("first Adam step moves every parameter by lr against its gradient sign", "[adam]") {
  // At t = 1, m̂ = g and v̂ = g², so the update is lr·g/|g| (ε = 1e-15 is invisible).
  const std::vector<float> p0 = {1.0f, -2.0f, 0.5f, 3.0f};
  const std::vector<float> g = {0.3f, -4.0f, 1e-3f, 0.0f};
  GroupBuffers b(Device::cpu(), p0, g, 0.01);
  adam_step(Device::cpu(), b.group, 1, AdamSettings{});
  CHECK(b.p[0] == Approx(0.99));
  CHECK(b.p[1] == Approx(-1.99));
  CHECK(b.p[2] == Approx(0.49));
  CHECK(b.p[3] == 3.0f);  // zero gradient: no move
  CHECK(b.m[1] == Approx(-0.4));
  CHECK(b.v[1] == Approx(0.016));
  for (int i = 0; i < 4; ++i) CHECK(b.g[i] == 0.0f);  // zeroed after the step
}

TEST_CASE("Adam step with existing moments matches the hand-computed update", "[adam]") {
  // t = 5, m = 0.2, v = 0.05, g = 0.4, lr = 0.1:
  //   m' = 0.9·0.2 + 0.1·0.4 = 0.22, v' = 0.999·0.05 + 0.001·0.16 = 0.05011,
  //   m̂ = 0.22/(1−0.9⁵), v̂ = 0.05011/(1−0.999⁵), p' = 1 − 0.1·m̂/√v̂.
  GroupBuffers b(Device::cpu(), {1.0f}, {0.4f}, 0.1);
  b.m[0] = 0.2f;
  b.v[0] = 0.05f;
  AdamSettings s;
  s.zero_grad = false;
  adam_step(Device::cpu(), b.group, 5, s);
  const double m_hat = 0.22 / (1 - std::pow(0.9, 5));
  const double v_hat = 0.05011 / (1 - std::pow(0.999, 5));
  CHECK(b.m[0] == Approx(0.22).epsilon(1e-6));
  CHECK(b.v[0] == Approx(0.05011).epsilon(1e-6));
  CHECK(b.p[0] == Approx(1.0 - 0.1 * m_hat / std::sqrt(v_hat)).epsilon(1e-6));
  CHECK(b.g[0] == 0.4f);  // kept when zero_grad is off
}

TEST_CASE("many Adam steps follow a double reference loop", "[adam]") {
  const size_t n = 1000;
  const int steps = 50;
  const std::vector<float> p0 = random_vector(n, 1, -1.f, 1.f);
  GroupBuffers b(Device::cpu(), p0, std::vector<float>(n, 0.f), 0.0);
  std::vector<RefAdam> ref(n);
  for (size_t i = 0; i < n; ++i) ref[i].p = p0[i];
  for (int t = 1; t <= steps; ++t) {
    const double lr = exponential_lr(t, 1e-2, 1e-4, steps);  // changes every step
    b.group.lr = lr;
    const std::vector<float> g = random_vector(n, 100 + t, -2.f, 2.f);
    b.g.upload(g);
    adam_step(Device::cpu(), b.group, t, AdamSettings{});
    for (size_t i = 0; i < n; ++i) ref[i].step(g[i], t, lr);
  }
  double worst = 0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(b.p[i] - ref[i].p));
  CHECK(worst < 1e-5);  // float rounding over 50 steps of size ≤ 1e-2
  for (size_t i = 0; i < n; ++i) {
    REQUIRE(b.m[i] == Approx(ref[i].m).margin(1e-6));
    REQUIRE(b.v[i] == Approx(ref[i].v).epsilon(1e-5));
  }
}

TEST_CASE("Adam row mask and moment reset", "[adam]") {
  // 4 rows of 3 floats; rows 1 and 3 are skipped.
  const std::vector<float> p0 = random_vector(12, 5, -1.f, 1.f);
  const std::vector<float> g = random_vector(12, 6, -1.f, 1.f);
  GroupBuffers b(Device::cpu(), p0, g, 0.05);
  const std::vector<uint8_t> skip = {0, 1, 0, 1};
  b.group.row_size = 3;
  b.group.skip_rows = skip.data();
  adam_step(Device::cpu(), b.group, 1, AdamSettings{});
  for (size_t i = 0; i < 12; ++i) {
    const bool skipped = skip[i / 3] != 0;
    INFO("element " << i);
    CHECK(b.g[i] == 0.0f);
    if (skipped) {
      CHECK(b.p[i] == p0[i]);
      CHECK(b.m[i] == 0.0f);
      CHECK(b.v[i] == 0.0f);
    } else {
      CHECK(b.p[i] != p0[i]);
      CHECK(b.m[i] != 0.0f);
    }
  }
  adam_reset_rows(Device::cpu(), b.group, 2, 3);
  for (size_t i = 6; i < 9; ++i) CHECK((b.m[i] == 0.0f && b.v[i] == 0.0f));
  CHECK(b.m[0] != 0.0f);
  CHECK_THROWS_AS(adam_reset_rows(Device::cpu(), b.group, 3, 5), Error);
}

TEST_CASE("Adam rejects bad arguments", "[adam]") {
  GroupBuffers b(Device::cpu(), {1.f}, {1.f}, 0.1);
  CHECK_THROWS_AS(adam_step(Device::cpu(), b.group, 0, AdamSettings{}), Error);
  b.group.lr = -1;
  CHECK_THROWS_AS(adam_step(Device::cpu(), b.group, 1, AdamSettings{}), Error);
  b.group.lr = 0.1;
  AdamSettings s;
  s.beta2 = 1.0;
  CHECK_THROWS_AS(adam_step(Device::cpu(), b.group, 1, s), Error);
  ParamGroup empty;
  adam_step(Device::cpu(), empty, 1, AdamSettings{});  // nothing to do, no pointers needed
}

TEST_CASE("exponential lr schedule: endpoints, geometric midpoint, delay", "[adam]") {
  const double a = 1.6e-4, b = 1.6e-6;
  CHECK(exponential_lr(0, a, b, 30000) == Approx(a));
  CHECK(exponential_lr(30000, a, b, 30000) == Approx(b));
  CHECK(exponential_lr(60000, a, b, 30000) == Approx(b));  // clamped after the end
  CHECK(exponential_lr(15000, a, b, 30000) == Approx(std::sqrt(a * b)));
  CHECK(exponential_lr(7500, a, b, 30000) == Approx(std::pow(a, 0.75) * std::pow(b, 0.25)));
  // Delayed warm-up: starts at delay_mult·lr_init, full rate after the delay.
  CHECK(exponential_lr(0, a, b, 30000, 100, 0.01) == Approx(0.01 * a));
  CHECK(exponential_lr(100, a, b, 30000, 100, 0.01) == Approx(exponential_lr(100, a, b, 30000)));
  CHECK(exponential_lr(-1, a, b, 30000) == 0.0);
  CHECK(exponential_lr(10, 0.0, 0.0, 30000) == 0.0);
  CHECK_THROWS_AS(exponential_lr(10, a, -b, 30000), Error);
}

TEST_CASE("split-rate Adam: each row's head follows lr_head, its tail the group's lr",
          "[adam]") {
  // SH rows of 48 floats: the DC's 3 at lr_head, the other 45 at lr (3DGS's feature_dc/rest).
  const size_t rows = 50, row = 48, n = rows * row;
  const double lr_head = 2.5e-3, lr_tail = 1.25e-4;
  const std::vector<float> p0 = random_vector(n, 21, -1.f, 1.f);
  GroupBuffers b(Device::cpu(), p0, std::vector<float>(n, 0.f), lr_tail);
  b.group.row_size = row;
  std::vector<RefAdam> ref(n);
  for (size_t i = 0; i < n; ++i) ref[i].p = p0[i];
  for (int t = 1; t <= 20; ++t) {
    const std::vector<float> g = random_vector(n, 300 + t, -2.f, 2.f);
    b.g.upload(g);
    adam_step_split_rows(Device::cpu(), b.group, 3, lr_head, t, AdamSettings{});
    for (size_t i = 0; i < n; ++i) ref[i].step(g[i], t, i % row < 3 ? lr_head : lr_tail);
  }
  for (size_t i = 0; i < n; ++i) {
    INFO("float " << i << " of row " << i / row);
    REQUIRE(b.p[i] == Approx(ref[i].p).margin(1e-6));
    REQUIRE(b.g[i] == 0.f);
  }
  // The head moved about 20× as far as the tail: the rates were not swapped.
  double head = 0, tail = 0;
  for (size_t i = 0; i < n; ++i) (i % row < 3 ? head : tail) += std::abs(b.p[i] - p0[i]);
  CHECK(head / (rows * 3) > 10 * tail / (rows * 45));
  b.group.count = n - 1;  // not whole rows
  CHECK_THROWS_AS(adam_step_split_rows(Device::cpu(), b.group, 3, lr_head, 21, AdamSettings{}),
                  Error);
  b.group.count = n;
  CHECK_THROWS_AS(adam_step_split_rows(Device::cpu(), b.group, 49, lr_head, 21, AdamSettings{}),
                  Error);
}

TEST_CASE("split-rate Adam CPU/CUDA parity: 100k SH rows", "[adam][cuda]") {
  if (!cuda_available()) {
    GS_SKIP("no CUDA device");
    return;
  }
  const size_t rows = 100003, row = 48, n = rows * row;  // 4.8M floats: a partial last grid
  const std::vector<float> p0 = random_vector(n, 31, -1.f, 1.f);
  GroupBuffers cpu(Device::cpu(), p0, std::vector<float>(n, 0.f), 1.25e-4);
  GroupBuffers gpu(Device::cuda(), p0, std::vector<float>(n, 0.f), 1.25e-4);
  cpu.group.row_size = gpu.group.row_size = row;
  for (int t = 1; t <= 5; ++t) {
    const std::vector<float> g = random_vector(n, 700 + t, -1.f, 1.f);
    cpu.g.upload(g);
    gpu.g.upload(g);
    adam_step_split_rows(Device::cpu(), cpu.group, 3, 2.5e-3, t, AdamSettings{});
    adam_step_split_rows(Device::cuda(), gpu.group, 3, 2.5e-3, t, AdamSettings{});
  }
  const std::vector<float> pg = gpu.p.to_host(), mg = gpu.m.to_host(), vg = gpu.v.to_host();
  for (size_t i = 0; i < n; ++i) {
    REQUIRE(pg[i] == Approx(cpu.p[i]).margin(1e-6));
    REQUIRE(mg[i] == Approx(cpu.m[i]).margin(1e-7));
    REQUIRE(vg[i] == Approx(cpu.v[i]).margin(1e-7));
  }
}

TEST_CASE("Adam CPU/CUDA parity", "[adam][cuda]") {
  if (!cuda_available()) {
    GS_SKIP("no CUDA device");
    return;
  }
  const size_t n = 100003;  // rows of 3 plus a partial grid
  const size_t rows = n / 3;
  const std::vector<float> p0 = random_vector(n, 11, -1.f, 1.f);
  GroupBuffers cpu(Device::cpu(), p0, std::vector<float>(n, 0.f), 1e-3);
  GroupBuffers gpu(Device::cuda(), p0, std::vector<float>(n, 0.f), 1e-3);
  std::vector<uint8_t> skip(rows);
  for (size_t r = 0; r < rows; ++r) skip[r] = uint8_t(r % 7 == 0);
  auto skip_gpu = Buffer<uint8_t>::from_host(Device::cuda(), skip, MemCategory::other);
  for (ParamGroup* g : {&cpu.group, &gpu.group}) {
    g->count = rows * 3;
    g->row_size = 3;
  }
  cpu.group.skip_rows = skip.data();
  gpu.group.skip_rows = skip_gpu.data();
  for (int t = 1; t <= 10; ++t) {
    const std::vector<float> g = random_vector(n, 500 + t, -1.f, 1.f);
    cpu.g.upload(g);
    gpu.g.upload(g);
    adam_step(Device::cpu(), cpu.group, t, AdamSettings{});
    adam_step(Device::cuda(), gpu.group, t, AdamSettings{});
  }
  const std::vector<float> pg = gpu.p.to_host(), mg = gpu.m.to_host(), vg = gpu.v.to_host();
  const std::vector<float> gg = gpu.g.to_host();
  for (size_t i = 0; i < n; ++i) {
    REQUIRE(pg[i] == Approx(cpu.p[i]).margin(1e-6));
    REQUIRE(mg[i] == Approx(cpu.m[i]).margin(1e-7));
    REQUIRE(vg[i] == Approx(cpu.v[i]).margin(1e-7));
    REQUIRE(gg[i] == Approx(cpu.g[i]).margin(0));
  }
}
