// The deformation field: its input encoding against the positional encoding, the deformation
// applied to Gaussians and the whole field checked against central finite differences in double,
// chunked recomputation against a single pass, and activation memory bounded by the chunk.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/memory_accounting.h"
#include "deform/deform_ops.h"
#include "deform/deformation_field.h"
#include "deform/positional_encoding.h"
#include "tests/deform/gradient_check.h"

using namespace gs;
using gs::test::central_difference;
using gs::test::dot;
using gs::test::random_vector;

namespace {

double rel_err(double analytic, double numeric) { return gs::test::rel_err(analytic, numeric, 1e-4); }

DeformationFieldConfig small_field() {
  DeformationFieldConfig c;
  c.depth = 3;
  c.width = 12;
  c.skip_after = 1;
  c.encoding.position_freqs = 3;
  c.encoding.time_freqs = 2;
  c.seed = 11;
  c.zero_init_heads = false;  // random heads, so every gradient path is exercised
  return c;
}

// Canonical Gaussians: means in [-1, 1], log-scales around e^-2, random quaternions.
struct Canonical {
  std::vector<double> means, log_scales, quats;
  explicit Canonical(size_t n)
      : means(random_vector(n * 3, 21)),
        log_scales(random_vector(n * 3, 22, -2.5, -1.5)),
        quats(random_vector(n * 4, 23)) {}
};

}  // namespace

TEST_CASE("field input: [γ(x), γ(t)] in the positional encoding's layout", "[deform]") {
  FieldEncoding enc;
  enc.position_freqs = 4;
  enc.time_freqs = 3;
  REQUIRE(enc.dim() == 3 + 24 + 1 + 6);
  const std::vector<double> x = {0.3, -0.7, 1.1, -0.2, 0.05, 0.9};
  const double t = 0.42;
  std::vector<double> out(2 * enc.dim());
  encode_field_input<double>(Device::cpu(), enc, x.data(), 2, t, out.data());
  const PositionalEncoding px{3, 4, true, 1.0}, pt{1, 3, true, 1.0};
  std::vector<double> gx(px.output_dim()), gt(pt.output_dim());
  positional_encoding_forward(pt, &t, 1, gt.data());
  for (int i = 0; i < 2; ++i) {
    positional_encoding_forward(px, x.data() + 3 * i, 1, gx.data());
    for (int k = 0; k < px.output_dim(); ++k)
      CHECK(out[i * enc.dim() + k] == Approx(gx[k]).margin(1e-14));
    for (int k = 0; k < pt.output_dim(); ++k)
      CHECK(out[i * enc.dim() + px.output_dim() + k] == Approx(gt[k]).margin(1e-14));
  }
}

TEST_CASE("deformation applied to Gaussians: closed form and finite differences", "[deform]") {
  const size_t n = 6;
  Canonical c(n);
  std::vector<double> deltas = random_vector(n * 10, 24, -0.05, 0.05);
  // Gaussian 0's first scale is pushed through zero: |exp(s) + δs| takes the other sign.
  deltas[7] = -2.0 * std::exp(c.log_scales[0]);
  const Device cpu = Device::cpu();
  std::vector<double> m(n * 3), ls(n * 3), q(n * 4);
  apply_deformation_forward<double>(cpu, n, c.means.data(), c.log_scales.data(), c.quats.data(),
                                    deltas.data(), m.data(), ls.data(), q.data());
  // Closed form for Gaussian 1.
  const double* q1 = &c.quats[4];
  const double norm = std::sqrt(q1[0] * q1[0] + q1[1] * q1[1] + q1[2] * q1[2] + q1[3] * q1[3]);
  for (int k = 0; k < 4; ++k) CHECK(q[4 + k] == Approx(q1[k] / norm + deltas[10 + 3 + k]));
  for (int d = 0; d < 3; ++d) {
    CHECK(m[3 + d] == Approx(c.means[3 + d] + deltas[10 + d]));
    CHECK(ls[3 + d] == Approx(std::log(std::exp(c.log_scales[3 + d]) + deltas[10 + 7 + d])));
  }
  CHECK(ls[0] == Approx(c.log_scales[0]));  // |e^s − 2e^s| = e^s

  // L = Σ a·mean' + Σ b·log_scale' + Σ w·quat'.
  const std::vector<double> a = random_vector(n * 3, 25), b = random_vector(n * 3, 26),
                            w = random_vector(n * 4, 27);
  auto loss = [&](const Canonical& cc, const std::vector<double>& dl) {
    apply_deformation_forward<double>(cpu, n, cc.means.data(), cc.log_scales.data(),
                                      cc.quats.data(), dl.data(), m.data(), ls.data(), q.data());
    return dot(a, m) + dot(b, ls) + dot(w, q);
  };
  std::vector<double> v_ls = b, v_q = w, d_deltas(n * 10);
  apply_deformation_backward<double>(cpu, n, c.log_scales.data(), c.quats.data(), deltas.data(),
                                     a.data(), v_ls.data(), v_q.data(), d_deltas.data());
  const double h = 1e-6;
  double worst = 0;
  auto fd = [&](double& x) { return central_difference(x, h, [&] { return loss(c, deltas); }); };
  for (size_t k = 0; k < n * 10; ++k) worst = std::max(worst, rel_err(d_deltas[k], fd(deltas[k])));
  for (size_t k = 0; k < n * 3; ++k) worst = std::max(worst, rel_err(v_ls[k], fd(c.log_scales[k])));
  for (size_t k = 0; k < n * 4; ++k) worst = std::max(worst, rel_err(v_q[k], fd(c.quats[k])));
  for (size_t k = 0; k < n * 3; ++k) worst = std::max(worst, rel_err(a[k], fd(c.means[k])));
  CHECK(worst < 1e-6);
}

TEST_CASE("deformation field: gradients match finite differences", "[deform]") {
  const size_t n = 5;
  const double t = 0.37;
  DeformationField<double> field(small_field(), Device::cpu(), n, n);
  Canonical c(n);
  const std::vector<double> a = random_vector(n * 3, 31), b = random_vector(n * 3, 32),
                            w = random_vector(n * 4, 33);
  auto loss = [&] {
    field.forward(c.means.data(), c.log_scales.data(), c.quats.data(), n, t);
    std::vector<double> m(n * 3), ls(n * 3), q(n * 4);
    std::copy(field.deformed_means(), field.deformed_means() + n * 3, m.begin());
    std::copy(field.deformed_log_scales(), field.deformed_log_scales() + n * 3, ls.begin());
    std::copy(field.deformed_quats(), field.deformed_quats() + n * 4, q.begin());
    return dot(a, m) + dot(b, ls) + dot(w, q);
  };
  loss();
  field.mlp().zero_grad();
  std::vector<double> v_ls = b, v_q = w;
  field.backward(c.means.data(), c.log_scales.data(), c.quats.data(), n, t, a.data(), v_ls.data(),
                 v_q.data());
  const std::vector<double> grads = field.mlp().grads().to_host();
  double* p = field.mlp().params().data();
  const double h = 1e-6;
  double worst = 0;
  auto fd = [&](double& x) { return central_difference(x, h, loss); };
  // Every 7th MLP parameter (all layers and heads are hit), then the canonical Gaussians.
  for (size_t k = 0; k < field.mlp().params().size(); k += 7) worst = std::max(worst, rel_err(grads[k], fd(p[k])));
  for (size_t k = 0; k < n * 3; ++k) worst = std::max(worst, rel_err(v_ls[k], fd(c.log_scales[k])));
  for (size_t k = 0; k < n * 4; ++k) worst = std::max(worst, rel_err(v_q[k], fd(c.quats[k])));
  CHECK(worst < 1e-5);
}

TEST_CASE("deformation field: chunked recomputation equals one pass", "[deform]") {
  const size_t n = 30;
  const double t = 0.8;
  Canonical c(n);
  const std::vector<double> a = random_vector(n * 3, 41), b = random_vector(n * 3, 42),
                            w = random_vector(n * 4, 43);
  struct Result {
    std::vector<double> means, grads, v_ls, v_q;
    size_t recomputed;
  };
  auto run = [&](size_t chunk) {
    DeformationField<double> field(small_field(), Device::cpu(), n, chunk);
    field.forward(c.means.data(), c.log_scales.data(), c.quats.data(), n, t);
    Result r;
    r.means.assign(field.deformed_means(), field.deformed_means() + n * 3);
    r.v_ls = b;
    r.v_q = w;
    field.backward(c.means.data(), c.log_scales.data(), c.quats.data(), n, t, a.data(),
                   r.v_ls.data(), r.v_q.data());
    r.grads = field.mlp().grads().to_host();
    r.recomputed = field.recomputed_chunks();
    return r;
  };
  const Result one = run(n), chunked = run(7);
  CHECK(one.recomputed == 0);
  CHECK(chunked.recomputed == 5);  // ⌈30 / 7⌉
  // Equal up to rounding: BLAS blocks a GEMM differently for different row counts.
  auto same = [](const std::vector<double>& x, const std::vector<double>& y) {
    REQUIRE(x.size() == y.size());
    double worst = 0;
    for (size_t k = 0; k < x.size(); ++k) worst = std::max(worst, std::abs(x[k] - y[k]) / (1 + std::abs(x[k])));
    return worst;
  };
  CHECK(same(one.means, chunked.means) < 1e-13);
  CHECK(same(one.v_ls, chunked.v_ls) < 1e-13);
  CHECK(same(one.v_q, chunked.v_q) < 1e-13);
  CHECK(same(one.grads, chunked.grads) < 1e-12);
}

TEST_CASE("deformation field: activation memory is set by the chunk, not by N", "[deform]") {
  DeformationFieldConfig cfg;  // the full 8 × 256 network of Deformable-3DGS
  const size_t chunk = 512;
  MemoryAccountant& acc = MemoryAccountant::of(DeviceKind::CPU);
  size_t first_activation = 0;
  for (size_t n : {size_t(1000), size_t(20000), size_t(100000)}) {
    const size_t before = acc.current(MemCategory::mlp);
    DeformationField<float> field(cfg, Device::cpu(), n, chunk);
    // Every byte the field holds is accounted, and only the per-Gaussian part grows with N.
    CHECK(acc.current(MemCategory::mlp) - before == field.bytes());
    CHECK(field.per_gaussian_bytes() == n * DeformationField<float>::per_gaussian_bytes_for());
    CHECK(field.activation_bytes() == chunk * DeformationField<float>::activation_bytes_per_row(cfg));
    if (first_activation == 0) first_activation = field.activation_bytes();
    CHECK(field.activation_bytes() == first_activation);
  }
  // Without chunking the activations would be 10 × 256 floats per Gaussian: 1 GB at N = 100k.
  CHECK(first_activation < size_t(6) << 20);
}
