// CPU/CUDA parity of the deformation field: encoding, the MLP over chunks with recomputation,
// the deformation applied to Gaussians and its backward. Skipped without a GPU.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "deform/deformation_field.h"

using namespace gs;

namespace {

std::vector<float> random_floats(size_t n, uint64_t seed, double lo, double hi) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = float(u(gen));
  return v;
}

// Largest |a − b| relative to the largest |b| (float GEMMs sum in different orders).
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double scale = 1e-30, worst = 0;
  for (float v : b) scale = std::max(scale, double(std::abs(v)));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst / scale;
}

}  // namespace

TEST_CASE("deformation field: CUDA matches the CPU", "[cuda][deform]") {
  std::string why;
  if (!cuda_available(&why)) {
    GS_SKIP("no CUDA device (" << why << ")");
    return;
  }
  const Device gpu = Device::cuda(0);
  DeformationFieldConfig cfg;  // the full 8 × 256 network, random heads so every path is live
  cfg.zero_init_heads = false;
  cfg.seed = 5;
  const size_t n = 3000, chunk = 1024;  // three chunks: the backward recomputes
  const float t = 0.3f;
  const std::vector<float> means = random_floats(n * 3, 1, -1.3, 1.3),
                           log_scales = random_floats(n * 3, 2, -5, -2),
                           quats = random_floats(n * 4, 3, -1, 1),
                           v_means = random_floats(n * 3, 4, -1, 1),
                           v_ls = random_floats(n * 3, 5, -1, 1), v_q = random_floats(n * 4, 6, -1, 1);

  struct Out {
    std::vector<float> means, log_scales, quats, v_ls, v_q, grads;
  };
  auto run = [&](const Device& dev) {
    DeformationField<float> field(cfg, dev, n, chunk);
    auto up = [&](const std::vector<float>& h) { return Buffer<float>::from_host(dev, h, MemCategory::other); };
    Buffer<float> m = up(means), ls = up(log_scales), q = up(quats), vm = up(v_means),
                  vls = up(v_ls), vq = up(v_q);
    field.forward(m.data(), ls.data(), q.data(), n, t);
    Out o;
    auto down = [&](const float* p, size_t count) {
      std::vector<float> h(count);
      copy_bytes(Device::cpu(), h.data(), dev, p, count * sizeof(float));
      return h;
    };
    o.means = down(field.deformed_means(), n * 3);
    o.log_scales = down(field.deformed_log_scales(), n * 3);
    o.quats = down(field.deformed_quats(), n * 4);
    field.backward(m.data(), ls.data(), q.data(), n, t, vm.data(), vls.data(), vq.data());
    o.v_ls = vls.to_host();
    o.v_q = vq.to_host();
    o.grads = field.mlp().grads().to_host();
    CHECK(field.recomputed_chunks() == 3);
    return o;
  };
  const Out cpu = run(Device::cpu()), cuda = run(gpu);
  CHECK(rel_diff(cuda.means, cpu.means) < 1e-4);
  CHECK(rel_diff(cuda.log_scales, cpu.log_scales) < 1e-4);
  CHECK(rel_diff(cuda.quats, cpu.quats) < 1e-4);
  // v_ls is not held to 1e-4 (issue 9 measured 5.4e-4 on an H200): it is the forward's δs error
  // amplified. The canonical gradient is v·e/u with u = e + δs and e = exp(s), so a GEMM
  // rounding difference Δ in δs changes it by v·e·Δ/u² = v_ls × Δ(log|u|): each element's
  // relative difference is the deformed log-scale's absolute difference, which may be up to
  // 1e-4 × max|log-scale| ≈ 5e-4 here (|u| ≪ e where δs nearly cancels the scale). Bound each
  // element by that propagated error (×2 for the second-order term) plus float rounding.
  double worst_excess = 0;
  double v_scale = 1e-30;
  for (float v : cpu.v_ls) v_scale = std::max(v_scale, double(std::abs(v)));
  for (size_t i = 0; i < cpu.v_ls.size(); ++i) {
    const double d_log_u = std::abs(double(cuda.log_scales[i]) - double(cpu.log_scales[i]));
    const double allowed = std::abs(double(cpu.v_ls[i])) * (2 * d_log_u + 1e-5) + 1e-6 * v_scale;
    const double diff = std::abs(double(cuda.v_ls[i]) - double(cpu.v_ls[i]));
    worst_excess = std::max(worst_excess, diff / allowed);
  }
  INFO("v_ls: max-relative " << rel_diff(cuda.v_ls, cpu.v_ls)
                              << "; worst difference / propagated bound " << worst_excess);
  CHECK(worst_excess <= 1.0);
  CHECK(rel_diff(cuda.v_q, cpu.v_q) < 1e-4);
  CHECK(rel_diff(cuda.grads, cpu.grads) < 1e-3);
}
