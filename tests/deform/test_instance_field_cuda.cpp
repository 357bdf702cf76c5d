// CPU/CUDA parity of the instance-conditioned deformation field (OmniRe's deformable nodes): the
// encoding with box scaling and embeddings, the deformation without δs, the embedding-gradient
// scatter (atomics on CUDA), and the whole field over chunks. Skipped without a GPU.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "deform/deform_ops.h"
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

// Largest |a − b| relative to the largest |b|.
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double scale = 1e-30, worst = 0;
  for (float v : b) scale = std::max(scale, double(std::abs(v)));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst / scale;
}

constexpr size_t kK = 5;
constexpr int kE = 16;

// n Gaussians tagged 0..K-1 in runs (as a node stores them), with a few unknown ids.
std::vector<int32_t> tags(size_t n) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = i % 97 == 5 ? -1 : int32_t((i * kK) / n);
  return t;
}

}  // namespace

TEST_CASE("instance field ops: CUDA matches the CPU", "[cuda][deform][instances]") {
  std::string why;
  if (!cuda_available(&why)) {
    GS_SKIP("no CUDA device (" << why << ")");
    return;
  }
  const Device gpu = Device::cuda(0);
  FieldEncoding enc;
  enc.time_freqs = 10;
  const size_t n = 2000;
  const int dim = enc.dim() + kE;
  const std::vector<int32_t> ids = tags(n);
  const std::vector<float> means = random_floats(n * 3, 1, -1, 1),
                           inv_box = random_floats(kK * 3, 2, 0.5, 1.5),
                           emb = random_floats(kK * kE, 3, 0, 1),
                           quats = random_floats(n * 4, 4, -1, 1),
                           log_scales = random_floats(n * 3, 5, -5, -2),
                           deltas = random_floats(n * 7, 6, -0.1, 0.1),
                           v_means = random_floats(n * 3, 7, -1, 1),
                           v_quats = random_floats(n * 4, 8, -1, 1),
                           d_input = random_floats(n * size_t(dim), 9, -1, 1);
  struct Out {
    std::vector<float> encoded, means, log_scales, quats, v_quats, d_deltas, d_emb;
  };
  auto run = [&](const Device& dev) {
    auto up = [&](const std::vector<float>& h) { return Buffer<float>::from_host(dev, h, MemCategory::other); };
    Buffer<int32_t> id = Buffer<int32_t>::from_host(dev, ids, MemCategory::other);
    Buffer<float> m = up(means), ib = up(inv_box), e = up(emb), q = up(quats), ls = up(log_scales),
                  dl = up(deltas), vm = up(v_means), vq = up(v_quats), di = up(d_input);
    Buffer<float> enc_out(dev, n * size_t(dim), MemCategory::other), mo(dev, n * 3, MemCategory::other),
        lso(dev, n * 3, MemCategory::other), qo(dev, n * 4, MemCategory::other),
        dd(dev, n * 7, MemCategory::other);
    Buffer<float> de = Buffer<float>::zeros(dev, kK * kE, MemCategory::other);
    FieldInstances<float> inst;
    inst.ids = id.data();
    inst.count = kK;
    inst.inv_box_size = ib.data();
    inst.embeddings = e.data();
    encode_field_input<float>(dev, enc, m.data(), n, 0.37f, enc_out.data(), &inst, kE);
    apply_deformation_forward<float>(dev, n, m.data(), ls.data(), q.data(), dl.data(), mo.data(),
                                     lso.data(), qo.data(), 7);
    apply_deformation_backward<float>(dev, n, ls.data(), q.data(), dl.data(), vm.data(), nullptr,
                                      vq.data(), dd.data(), 7);
    scatter_embedding_grads<float>(dev, n, id.data(), kK, di.data(), dim, enc.dim(), kE, de.data());
    return Out{enc_out.to_host(), mo.to_host(), lso.to_host(), qo.to_host(),
               vq.to_host(),      dd.to_host(), de.to_host()};
  };
  const Out cpu = run(Device::cpu()), cuda = run(gpu);
  CHECK(rel_diff(cuda.encoded, cpu.encoded) < 1e-5);
  CHECK(rel_diff(cuda.means, cpu.means) < 1e-6);
  CHECK(cuda.log_scales == cpu.log_scales);  // copied
  CHECK(rel_diff(cuda.quats, cpu.quats) < 1e-6);
  CHECK(rel_diff(cuda.v_quats, cpu.v_quats) < 1e-5);
  CHECK(rel_diff(cuda.d_deltas, cpu.d_deltas) < 1e-5);
  CHECK(rel_diff(cuda.d_emb, cpu.d_emb) < 1e-5);  // sums of ~400 rows in another order
}

TEST_CASE("instance field: CUDA matches the CPU over chunks", "[cuda][deform][instances]") {
  std::string why;
  if (!cuda_available(&why)) {
    GS_SKIP("no CUDA device (" << why << ")");
    return;
  }
  const Device gpu = Device::cuda(0);
  DeformationFieldConfig cfg;  // OmniRe's network, random heads so every path is live
  cfg.encoding.time_freqs = 10;
  cfg.embedding_dim = kE;
  cfg.deform_scales = false;
  cfg.zero_init_heads = false;
  cfg.seed = 7;
  const size_t n = 3000, chunk = 1024;
  const float t = 0.6f;
  const std::vector<int32_t> ids = tags(n);
  const std::vector<float> means = random_floats(n * 3, 11, -1, 1),
                           log_scales = random_floats(n * 3, 12, -5, -2),
                           quats = random_floats(n * 4, 13, -1, 1),
                           inv_box = random_floats(kK * 3, 14, 0.5, 1.5),
                           emb = random_floats(kK * kE, 15, 0, 1),
                           v_means = random_floats(n * 3, 16, -1, 1),
                           v_q = random_floats(n * 4, 17, -1, 1);
  struct Out {
    std::vector<float> means, quats, v_q, grads, d_emb;
  };
  auto run = [&](const Device& dev) {
    DeformationField<float> field(cfg, dev, n, chunk);
    auto up = [&](const std::vector<float>& h) { return Buffer<float>::from_host(dev, h, MemCategory::other); };
    Buffer<int32_t> id = Buffer<int32_t>::from_host(dev, ids, MemCategory::other);
    Buffer<float> m = up(means), ls = up(log_scales), q = up(quats), ib = up(inv_box), e = up(emb),
                  vm = up(v_means), vq = up(v_q);
    Buffer<float> de = Buffer<float>::zeros(dev, kK * kE, MemCategory::other);
    FieldInstances<float> inst;
    inst.ids = id.data();
    inst.count = kK;
    inst.inv_box_size = ib.data();
    inst.embeddings = e.data();
    inst.d_embeddings = de.data();
    field.forward(m.data(), ls.data(), q.data(), n, t, &inst);
    Out o;
    auto down = [&](const float* p, size_t count) {
      std::vector<float> h(count);
      copy_bytes(Device::cpu(), h.data(), dev, p, count * sizeof(float));
      return h;
    };
    o.means = down(field.deformed_means(), n * 3);
    o.quats = down(field.deformed_quats(), n * 4);
    field.backward(m.data(), ls.data(), q.data(), n, t, vm.data(), nullptr, vq.data(), &inst);
    CHECK(field.recomputed_chunks() == 3);
    o.v_q = vq.to_host();
    o.grads = field.mlp().grads().to_host();
    o.d_emb = de.to_host();
    return o;
  };
  const Out cpu = run(Device::cpu()), cuda = run(gpu);
  CHECK(rel_diff(cuda.means, cpu.means) < 1e-4);
  CHECK(rel_diff(cuda.quats, cpu.quats) < 1e-4);
  CHECK(rel_diff(cuda.v_q, cpu.v_q) < 1e-4);
  CHECK(rel_diff(cuda.grads, cpu.grads) < 1e-3);
  CHECK(rel_diff(cuda.d_emb, cpu.d_emb) < 1e-3);
}
