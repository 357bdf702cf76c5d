// The deformation field conditioned on instances (OmniRe's deformable nodes): the input rows
// [γ(x ⊙ 1/box), γ(t), e_k], the deformation without δs, the gradients of the embeddings (through
// the shared MLP, skip included), the canonical quaternions and the MLP's weights against
// central finite differences in double, the chunked recomputation against one pass, the
// embedding-gradient scatter, and the memory the field reports.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

constexpr int kEmbed = 4;
constexpr size_t kK = 3;

// A small field with embeddings and no δs; the skip after layer 0 re-feeds the input (and so
// the embedding) to layer 1, so both input paths carry the embedding's gradient.
DeformationFieldConfig instance_field() {
  DeformationFieldConfig c;
  c.depth = 2;
  c.width = 8;
  c.skip_after = 0;
  c.encoding.position_freqs = 3;
  c.encoding.time_freqs = 2;
  c.seed = 13;
  c.zero_init_heads = false;  // random heads, so every gradient path is exercised
  c.embedding_dim = kEmbed;
  c.deform_scales = false;
  return c;
}

// Gaussians of three instances, plus one whose tag names no instance (-1) and one past K.
struct Tagged {
  std::vector<int32_t> ids;
  std::vector<double> means, log_scales, quats, inv_box, embeddings, d_embeddings;
  explicit Tagged(size_t n)
      : means(random_vector(n * 3, 51, -1.5, 1.5)),
        log_scales(random_vector(n * 3, 52, -2.5, -1.5)),
        quats(random_vector(n * 4, 53)),
        inv_box(random_vector(kK * 3, 54, 0.4, 1.6)),
        embeddings(random_vector(kK * kEmbed, 55, 0.0, 1.0)),
        d_embeddings(kK * kEmbed, 0.0) {
    // Instances 0, 1, 2 in turn; every fourth Gaussian names none (-1, or 7 past K = 3).
    for (size_t i = 0; i < n; ++i)
      ids.push_back(i % 4 != 3 ? int32_t(i % 4) : i % 8 == 3 ? int32_t(-1) : int32_t(7));
  }
  FieldInstances<double> instances(bool with_gradient) {
    FieldInstances<double> in;
    in.ids = ids.data();
    in.count = kK;
    in.inv_box_size = inv_box.data();
    in.embeddings = embeddings.data();
    in.d_embeddings = with_gradient ? d_embeddings.data() : nullptr;
    return in;
  }
};

}  // namespace

TEST_CASE("instance field input: [γ(x ⊙ 1/box), γ(t), e_k]; unknown ids: unscaled, no embedding",
          "[deform][instances]") {
  FieldEncoding enc;
  enc.position_freqs = 4;
  enc.time_freqs = 3;
  const int row = enc.dim() + kEmbed;
  Tagged g(8);  // ids 0 1 2 -1 0 1 2 7
  const double t = 0.61;
  const FieldInstances<double> inst = g.instances(false);
  std::vector<double> out(8 * size_t(row), 99.0), plain(8 * size_t(row), 99.0);
  encode_field_input<double>(Device::cpu(), enc, g.means.data(), 8, t, out.data(), &inst, kEmbed);
  encode_field_input<double>(Device::cpu(), enc, g.means.data(), 8, t, plain.data(), nullptr,
                             kEmbed);
  const PositionalEncoding px{3, 4, true, 1.0}, pt{1, 3, true, 1.0};
  std::vector<double> gx(px.output_dim()), gt(pt.output_dim());
  positional_encoding_forward(pt, &t, 1, gt.data());
  for (size_t i = 0; i < 8; ++i) {
    INFO("Gaussian " << i << ", instance " << g.ids[i]);
    const bool known = g.ids[i] >= 0 && size_t(g.ids[i]) < kK;
    double x[3];
    for (size_t d = 0; d < 3; ++d)
      x[d] = g.means[3 * i + d] * (known ? g.inv_box[3 * size_t(g.ids[i]) + d] : 1.0);
    positional_encoding_forward(px, x, 1, gx.data());
    const double* o = &out[i * size_t(row)];
    for (int k = 0; k < px.output_dim(); ++k) CHECK(o[k] == Approx(gx[size_t(k)]).margin(1e-14));
    for (int k = 0; k < pt.output_dim(); ++k)
      CHECK(o[px.output_dim() + k] == Approx(gt[size_t(k)]).margin(1e-14));
    for (int e = 0; e < kEmbed; ++e)
      CHECK(o[enc.dim() + e] == (known ? g.embeddings[size_t(g.ids[i]) * kEmbed + size_t(e)] : 0.0));
    // Without instances: the plain encoding of the mean, and zero embedding columns.
    positional_encoding_forward(px, &g.means[3 * i], 1, gx.data());
    for (int k = 0; k < px.output_dim(); ++k)
      CHECK(plain[i * size_t(row) + size_t(k)] == Approx(gx[size_t(k)]).margin(1e-14));
    for (int e = 0; e < kEmbed; ++e) CHECK(plain[i * size_t(row) + size_t(enc.dim() + e)] == 0.0);
  }
}

TEST_CASE("deformation without δs: scales pass through, finite differences", "[deform][instances]") {
  const size_t n = 5;
  Tagged g(n);
  std::vector<double> deltas = random_vector(n * 7, 61, -0.05, 0.05);
  const Device cpu = Device::cpu();
  std::vector<double> m(n * 3), ls(n * 3, 7.0), q(n * 4);
  auto forward = [&] {
    apply_deformation_forward<double>(cpu, n, g.means.data(), g.log_scales.data(),
                                      g.quats.data(), deltas.data(), m.data(), ls.data(),
                                      q.data(), 7);
  };
  forward();
  CHECK(ls == g.log_scales);
  for (size_t i = 0; i < n; ++i) {
    const double* qi = &g.quats[4 * i];
    const double norm = std::sqrt(qi[0] * qi[0] + qi[1] * qi[1] + qi[2] * qi[2] + qi[3] * qi[3]);
    for (size_t c = 0; c < 4; ++c) CHECK(q[4 * i + c] == Approx(qi[c] / norm + deltas[7 * i + 3 + c]));
    for (size_t d = 0; d < 3; ++d) CHECK(m[3 * i + d] == Approx(g.means[3 * i + d] + deltas[7 * i + d]));
  }
  const std::vector<double> a = random_vector(n * 3, 62), w = random_vector(n * 4, 63);
  auto loss = [&] {
    forward();
    return dot(a, m) + dot(w, q);
  };
  std::vector<double> v_q = w, d_deltas(n * 7);
  // The scales' gradient is not needed without δs: null is accepted.
  apply_deformation_backward<double>(cpu, n, nullptr, g.quats.data(), deltas.data(), a.data(),
                                     nullptr, v_q.data(), d_deltas.data(), 7);
  double worst = 0;
  auto fd = [&](double& x) { return central_difference(x, 1e-6, loss); };
  for (size_t k = 0; k < n * 7; ++k) worst = std::max(worst, rel_err(d_deltas[k], fd(deltas[k])));
  for (size_t k = 0; k < n * 4; ++k) worst = std::max(worst, rel_err(v_q[k], fd(g.quats[k])));
  CHECK(worst < 1e-6);
}

TEST_CASE("instance field: embedding, quaternion and weight gradients match finite differences",
          "[deform][instances]") {
  const size_t n = 8;
  const double t = 0.43;
  DeformationField<double> field(instance_field(), Device::cpu(), n, n);
  REQUIRE(field.mlp().config().input_dim == 3 + 18 + 1 + 4 + kEmbed);
  REQUIRE(field.mlp().output_dim() == 7);  // δx, δq: no δs head
  Tagged g(n);
  const std::vector<double> a = random_vector(n * 3, 71), b = random_vector(n * 3, 72),
                            w = random_vector(n * 4, 73);
  auto loss = [&] {
    const FieldInstances<double> inst = g.instances(false);
    field.forward(g.means.data(), g.log_scales.data(), g.quats.data(), n, t, &inst);
    std::vector<double> m(field.deformed_means(), field.deformed_means() + n * 3),
        ls(field.deformed_log_scales(), field.deformed_log_scales() + n * 3),
        q(field.deformed_quats(), field.deformed_quats() + n * 4);
    return dot(a, m) + dot(b, ls) + dot(w, q);
  };
  loss();
  CHECK(std::vector<double>(field.deformed_log_scales(), field.deformed_log_scales() + n * 3) ==
        g.log_scales);
  field.mlp().zero_grad();
  std::vector<double> v_ls = b, v_q = w;
  FieldInstances<double> inst = g.instances(true);
  field.backward(g.means.data(), g.log_scales.data(), g.quats.data(), n, t, a.data(), v_ls.data(),
                 v_q.data(), &inst);
  CHECK(v_ls == b);  // the scales pass through: their gradient is left as it is
  const std::vector<double> grads = field.mlp().grads().to_host();
  const std::vector<double> d_emb = g.d_embeddings;
  double* p = field.mlp().params().data();
  double worst = 0;
  auto fd = [&](double& x) { return central_difference(x, 1e-6, loss); };
  for (size_t k = 0; k < kK * kEmbed; ++k) {
    INFO("embedding value " << k);
    CHECK(d_emb[k] != 0.0);  // every instance has Gaussians: a live gradient to compare
    worst = std::max(worst, rel_err(d_emb[k], fd(g.embeddings[k])));
  }
  for (size_t k = 0; k < field.mlp().params().size(); k += 3) worst = std::max(worst, rel_err(grads[k], fd(p[k])));
  for (size_t k = 0; k < n * 4; ++k) worst = std::max(worst, rel_err(v_q[k], fd(g.quats[k])));
  CHECK(worst < 1e-5);
}

TEST_CASE("instance field: chunked recomputation equals one pass, embeddings included",
          "[deform][instances]") {
  const size_t n = 30;
  const double t = 0.2;
  const std::vector<double> a = random_vector(n * 3, 81), w = random_vector(n * 4, 83);
  struct Result {
    std::vector<double> means, quats, grads, v_q, d_emb;
    size_t recomputed;
  };
  auto run = [&](size_t chunk) {
    Tagged g(n);
    DeformationField<double> field(instance_field(), Device::cpu(), n, chunk);
    FieldInstances<double> inst = g.instances(true);
    field.forward(g.means.data(), g.log_scales.data(), g.quats.data(), n, t, &inst);
    Result r;
    r.means.assign(field.deformed_means(), field.deformed_means() + n * 3);
    r.quats.assign(field.deformed_quats(), field.deformed_quats() + n * 4);
    r.v_q = w;
    field.backward(g.means.data(), g.log_scales.data(), g.quats.data(), n, t, a.data(), nullptr,
                   r.v_q.data(), &inst);
    r.grads = field.mlp().grads().to_host();
    r.d_emb = g.d_embeddings;
    r.recomputed = field.recomputed_chunks();
    return r;
  };
  const Result one = run(n), chunked = run(7);
  CHECK(one.recomputed == 0);
  CHECK(chunked.recomputed == 5);  // ⌈30 / 7⌉
  auto same = [](const std::vector<double>& x, const std::vector<double>& y) {
    REQUIRE(x.size() == y.size());
    double worst = 0;
    for (size_t k = 0; k < x.size(); ++k) worst = std::max(worst, std::abs(x[k] - y[k]) / (1 + std::abs(x[k])));
    return worst;
  };
  CHECK(same(one.means, chunked.means) < 1e-13);
  CHECK(same(one.quats, chunked.quats) < 1e-13);
  CHECK(same(one.v_q, chunked.v_q) < 1e-13);
  CHECK(same(one.grads, chunked.grads) < 1e-12);
  CHECK(same(one.d_emb, chunked.d_emb) < 1e-12);
  CHECK(*std::max_element(one.d_emb.begin(), one.d_emb.end()) > 0);
}

TEST_CASE("embedding-gradient scatter: sums each row's columns into its instance",
          "[deform][instances]") {
  const size_t n = 6;
  const int ld = 9, col = 4, E = 3;
  const std::vector<int32_t> ids = {2, 0, -1, 2, 5, 0};
  const std::vector<double> d_input = random_vector(n * size_t(ld), 91);
  std::vector<double> d_emb(kK * E, 1.0);  // accumulated into
  scatter_embedding_grads<double>(Device::cpu(), n, ids.data(), kK, d_input.data(), ld, col, E,
                                  d_emb.data());
  for (int e = 0; e < E; ++e) {
    const auto at = [&](size_t r) { return d_input[r * size_t(ld) + size_t(col + e)]; };
    CHECK(d_emb[0 * E + size_t(e)] == 1.0 + at(1) + at(5));
    CHECK(d_emb[1 * E + size_t(e)] == 1.0);  // no rows: untouched
    CHECK(d_emb[2 * E + size_t(e)] == 1.0 + at(0) + at(3));
  }
}

TEST_CASE("instance field: memory as the memory model counts it", "[deform][instances]") {
  DeformationFieldConfig cfg;  // OmniRe's network: 8 × 256, L = 10 / 10, 16-d embedding, no δs
  cfg.encoding.time_freqs = 10;
  cfg.embedding_dim = 16;
  cfg.deform_scales = false;
  REQUIRE(cfg.input_dim() == 63 + 21 + 16);
  const size_t n = 5000, chunk = 1024;
  MemoryAccountant& acc = MemoryAccountant::of(DeviceKind::CPU);
  const size_t before = acc.current(MemCategory::mlp);
  DeformationField<float> field(cfg, Device::cpu(), n, chunk);
  CHECK(acc.current(MemCategory::mlp) - before == field.bytes());
  // Deltas and their gradients (7 each), deformed mean, log-scale and quaternion: 24 floats.
  CHECK(DeformationField<float>::per_gaussian_bytes_for(cfg) == 96);
  CHECK(field.per_gaussian_bytes() == n * 96);
  // Encoded input and its gradient (100 each), 8 hidden rows and 2 scratch rows of 256.
  CHECK(DeformationField<float>::activation_bytes_per_row(cfg) == 4 * (2 * 100 + 10 * 256));
  CHECK(field.activation_bytes() == chunk * DeformationField<float>::activation_bytes_per_row(cfg));
  // Without instances nothing changed: Deformable-3DGS's 120 B per Gaussian.
  CHECK(DeformationField<float>::per_gaussian_bytes_for() == 120);
}
