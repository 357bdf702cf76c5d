// CPU/CUDA parity of deform/linalg (cuBLAS GEMM, bias/ReLU kernels, the deterministic column
// reduction) and of the MLP built on them, the CPU backend as the oracle. Skipped, visibly,
// without a usable GPU (and in builds without CUDA, where cuda_available() is false); only the
// public, device-dispatching API is used, so this file compiles in every build.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "deform/linalg.h"
#include "deform/mlp.h"

using namespace gs;

namespace {

using gs::test::have_gpu;

template <class T>
std::vector<T> random_vector(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = T(u(gen));
  return v;
}

// Float and double tolerances for a result that went through sums of up to ~1000 terms.
template <class T>
double tolerance() {
  return std::is_same<T, float>::value ? 1e-4 : 1e-10;
}

// Largest |a − b| / max(|b|, floor · max|b|): relative per element, with an absolute floor
// proportional to the array's scale so entries that cancel to near zero are compared absolutely.
// A NaN on one side only (or a size mismatch) is an infinite error; NaN on both sides is none.
template <class T>
double max_rel_error(const std::vector<T>& a, const std::vector<T>& b, double floor = 1e-2) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double scale = 0;
  for (const T& v : b)
    if (std::isfinite(double(v))) scale = std::max(scale, std::abs(double(v)));
  const double abs_floor = std::max(floor * scale, 1e-30);
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool na = std::isnan(double(a[i])), nb = std::isnan(double(b[i]));
    if (na || nb) {
      if (na != nb) return std::numeric_limits<double>::infinity();
      continue;
    }
    const double d = std::abs(double(a[i]) - double(b[i]));
    worst = std::max(worst, d / std::max(std::abs(double(b[i])), abs_floor));
  }
  return worst;
}

template <class T>
Buffer<T> upload(const std::vector<T>& host) {
  return Buffer<T>::from_host(Device::cuda(0), host, MemCategory::other);
}

// One GEMM on both devices from the same inputs; C's storage (rows × ldc) is compared whole, so
// the padding columns must come back untouched on both.
template <class T>
void compare_gemm(bool ta, bool tb, int m, int n, int k, T alpha, T beta, int pad, uint64_t seed,
                  bool nan_c = false) {
  const int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  const size_t a_rows = size_t(ta ? k : m), b_rows = size_t(tb ? n : k);
  const std::vector<T> A = random_vector<T>(std::max<size_t>(a_rows * lda, 1), seed);
  const std::vector<T> B = random_vector<T>(std::max<size_t>(b_rows * ldb, 1), seed + 1);
  std::vector<T> C = random_vector<T>(size_t(m) * ldc, seed + 2);
  for (int i = 0; i < m; ++i)
    for (int j = n; j < ldc; ++j) C[size_t(i) * ldc + j] = T(7);  // padding sentinel
  if (nan_c)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) C[size_t(i) * ldc + j] = std::numeric_limits<T>::quiet_NaN();

  std::vector<T> c_cpu = C;
  gemm<T>(Device::cpu(), ta, tb, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, c_cpu.data(),
          ldc);
  const Buffer<T> dA = upload(A), dB = upload(B);
  Buffer<T> dC = upload(C);
  gemm<T>(Device::cuda(0), ta, tb, m, n, k, alpha, k > 0 ? dA.data() : nullptr, lda,
          k > 0 ? dB.data() : nullptr, ldb, beta, dC.data(), ldc);
  const std::vector<T> c_gpu = dC.to_host();

  INFO("trans_a " << ta << " trans_b " << tb << " m " << m << " n " << n << " k " << k
                  << " alpha " << alpha << " beta " << beta << " lda " << lda << " ldb " << ldb
                  << " ldc " << ldc << (nan_c ? " (C = NaN)" : ""));
  CHECK(max_rel_error(c_gpu, c_cpu) < tolerance<T>());
  bool padding_kept = true, finite = true;
  for (int i = 0; i < m; ++i) {
    for (int j = n; j < ldc; ++j) padding_kept &= c_gpu[size_t(i) * ldc + j] == T(7);
    for (int j = 0; j < n; ++j) finite &= std::isfinite(double(c_gpu[size_t(i) * ldc + j]));
  }
  CHECK(padding_kept);
  if (nan_c && beta == T(0)) CHECK(finite);  // beta == 0 overwrites NaNs
}

}  // namespace

TEMPLATE_TEST_CASE("CUDA gemm matches the CPU: transposes, leading dimensions, beta, k == 0",
                   "[cuda][deform]", float, double) {
  using T = TestType;
  if (!have_gpu()) return;
  uint64_t seed = 100;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      // Odd sizes, leading dimensions larger than the minimum.
      compare_gemm<T>(ta, tb, 37, 23, 19, T(1), T(0), 5, seed += 3);
      compare_gemm<T>(ta, tb, 37, 23, 19, T(1), T(1), 3, seed += 3);
      compare_gemm<T>(ta, tb, 37, 23, 19, T(-0.75), T(0.5), 1, seed += 3);
      compare_gemm<T>(ta, tb, 37, 23, 19, T(1), T(0), 4, seed += 3, /*nan_c=*/true);
      // The MLP's shapes: tall activations times a narrow weight block.
      compare_gemm<T>(ta, tb, 1000, 64, 140, T(1), T(0), 7, seed += 3);
      compare_gemm<T>(ta, tb, 64, 76, 1000, T(1), T(1), 2, seed += 3);
      compare_gemm<T>(ta, tb, 1, 1, 1, T(2), T(0), 0, seed += 3);
      // k == 0 and alpha == 0: C = beta · C (0 when beta == 0, even over NaNs).
      for (T beta : {T(0), T(1), T(0.5)}) {
        compare_gemm<T>(ta, tb, 9, 11, 0, T(1), beta, 2, seed += 3);
        compare_gemm<T>(ta, tb, 9, 11, 5, T(0), beta, 2, seed += 3);
      }
      compare_gemm<T>(ta, tb, 9, 11, 0, T(1), T(0), 2, seed += 3, /*nan_c=*/true);
      compare_gemm<T>(ta, tb, 9, 11, 5, T(0), T(0), 2, seed += 3, /*nan_c=*/true);
    }
  // m == 0 or n == 0: nothing to do, nothing touched.
  compare_gemm<T>(false, false, 0, 5, 3, T(1), T(0), 1, seed += 3);
  compare_gemm<T>(false, true, 4, 0, 3, T(1), T(0), 1, seed += 3);
}

TEMPLATE_TEST_CASE("CUDA bias_activation and relu_backward match the CPU exactly",
                   "[cuda][deform]", float, double) {
  using T = TestType;
  if (!have_gpu()) return;
  const size_t rows = 1003;
  const int cols = 37;
  const size_t ldy = 41;
  const std::vector<T> bias = random_vector<T>(cols, 7);
  for (bool relu : {false, true}) {
    const std::vector<T> Y = random_vector<T>(rows * ldy, 8 + relu);
    std::vector<T> y_cpu = Y;
    bias_activation<T>(Device::cpu(), rows, cols, y_cpu.data(), ldy, bias.data(), relu);
    Buffer<T> dY = upload(Y);
    const Buffer<T> dbias = upload(bias);
    bias_activation<T>(Device::cuda(0), rows, cols, dY.data(), ldy, dbias.data(), relu);
    INFO("relu " << relu);
    CHECK(dY.to_host() == y_cpu);  // one add (and a max): bitwise equal, padding untouched
  }

  const size_t count = 10007;
  std::vector<T> act = random_vector<T>(count, 9);
  for (size_t j = 0; j < count; j += 13) act[j] = T(0);  // exactly 0: gradient blocked
  act[5] = std::numeric_limits<T>::quiet_NaN();           // NaN: blocked too (!(NaN > 0))
  act[6] = -T(0);
  const std::vector<T> grad = random_vector<T>(count, 10);
  std::vector<T> g_cpu = grad;
  relu_backward<T>(Device::cpu(), count, act.data(), g_cpu.data());
  const Buffer<T> dact = upload(act);
  Buffer<T> dgrad = upload(grad);
  relu_backward<T>(Device::cuda(0), count, dact.data(), dgrad.data());
  CHECK(dgrad.to_host() == g_cpu);
  CHECK(g_cpu[0] == T(0));
  CHECK(g_cpu[5] == T(0));
}

TEMPLATE_TEST_CASE("CUDA bias_grad_accumulate matches the CPU and is deterministic",
                   "[cuda][deform]", float, double) {
  using T = TestType;
  if (!have_gpu()) return;
  struct Shape {
    size_t rows;
    int cols;
    size_t pad;
  };
  // 1 row; fewer rows than a chunk; a partial last chunk; the chunk cap; more columns than one
  // pass (256); the MLP's head (3 columns of a 10-wide output) and hidden widths.
  const Shape shapes[] = {{1, 5, 0},      {63, 3, 7},      {1000, 64, 0},  {100003, 3, 7},
                          {200003, 64, 1}, {4099, 300, 3}, {70000, 256, 0}};
  uint64_t seed = 300;
  for (const Shape& s : shapes) {
    const size_t ldg = size_t(s.cols) + s.pad;
    const std::vector<T> G = random_vector<T>(s.rows * ldg, ++seed);
    const std::vector<T> db0 = random_vector<T>(size_t(s.cols), ++seed);
    // A double reference, and the bound of a sum's rounding error: Σ|terms| · (small factor).
    std::vector<double> ref(size_t(s.cols)), mag(size_t(s.cols));
    for (int o = 0; o < s.cols; ++o) {
      double acc = 0, m = std::abs(double(db0[size_t(o)]));
      for (size_t i = 0; i < s.rows; ++i) {
        acc += double(G[i * ldg + size_t(o)]);
        m += std::abs(double(G[i * ldg + size_t(o)]));
      }
      ref[size_t(o)] = double(db0[size_t(o)]) + acc;
      mag[size_t(o)] = m;
    }
    std::vector<T> db_cpu = db0;
    bias_grad_accumulate<T>(Device::cpu(), s.rows, s.cols, G.data(), ldg, db_cpu.data());
    const Buffer<T> dG = upload(G);
    Buffer<T> ddb = upload(db0);
    bias_grad_accumulate<T>(Device::cuda(0), s.rows, s.cols, dG.data(), ldg, ddb.data());
    const std::vector<T> db_gpu = ddb.to_host();
    ddb.upload(db0);
    bias_grad_accumulate<T>(Device::cuda(0), s.rows, s.cols, dG.data(), ldg, ddb.data());
    INFO("rows " << s.rows << " cols " << s.cols << " ldg " << ldg);
    CHECK(ddb.to_host() == db_gpu);  // same inputs, same bits
    // Parity through the exact sum: the two backends add in different orders, so each is held
    // to its own rounding bound in units of ε·Σ|terms|. The CPU's running sum may lose up to
    // (rows − 1)/2 of them; the GPU's chunked tree sum (≤ ~100 terms per thread, a 6-level tree,
    // ≤ 256 partials) far fewer, so it gets a fixed bound.
    const double eps = double(std::numeric_limits<T>::epsilon());
    double gpu_err = 0, cpu_err = 0;
    for (int o = 0; o < s.cols; ++o) {
      const size_t j = size_t(o);
      gpu_err = std::max(gpu_err, std::abs(double(db_gpu[j]) - ref[j]) / (mag[j] * eps));
      cpu_err = std::max(cpu_err, std::abs(double(db_cpu[j]) - ref[j]) / (mag[j] * eps));
    }
    CHECK(gpu_err < 64.0);
    CHECK(cpu_err < double(s.rows) + 2.0);
  }
}

TEMPLATE_TEST_CASE("CUDA Mlp matches the CPU Mlp: forward, parameter and input gradients",
                   "[cuda][deform]", float, double) {
  using T = TestType;
  if (!have_gpu()) return;
  MlpConfig config;
  config.input_dim = 76;
  config.hidden_width = 64;
  config.hidden_layers = 4;
  config.skip_after = 1;
  config.head_dims = {3, 4, 3};
  config.seed = 2024;
  Mlp<T> cpu(config, Device::cpu());
  Mlp<T> gpu(config, Device::cuda(0));
  REQUIRE(gpu.params_to_host() == cpu.params_to_host());  // initialised on the host, uploaded

  const size_t n = 1000;
  const int D = config.input_dim, O = cpu.output_dim();
  const std::vector<T> x = random_vector<T>(n * D, 51);
  const std::vector<T> d_out = random_vector<T>(n * O, 52);

  std::vector<T> out_cpu(n * O), dx_cpu(n * D);
  MlpWorkspace<T> ws_cpu = cpu.make_workspace(n);
  cpu.forward(x.data(), n, out_cpu.data(), ws_cpu);
  cpu.backward(x.data(), n, d_out.data(), dx_cpu.data(), ws_cpu);

  const Buffer<T> dx_in = upload(x), dd_out = upload(d_out);
  Buffer<T> dout(Device::cuda(0), n * O, MemCategory::other);
  Buffer<T> ddx(Device::cuda(0), n * D, MemCategory::other);
  MlpWorkspace<T> ws_gpu = gpu.make_workspace(n);
  gpu.forward(dx_in.data(), n, dout.data(), ws_gpu);
  gpu.backward(dx_in.data(), n, dd_out.data(), ddx.data(), ws_gpu);

  // A hidden pre-activation within rounding of 0 can land on opposite sides of the ReLU on the
  // two devices (rare: an estimated few percent of seeds in float); that unit's gradient is then
  // passed on one side and blocked on the other, a real difference of one term in a sum over
  // rows. Forward stays within the tolerance either way; gradients are then held loosely.
  const std::vector<T> h_cpu = ws_cpu.hidden.to_host(), h_gpu = ws_gpu.hidden.to_host();
  REQUIRE(h_cpu.size() == h_gpu.size());
  size_t flips = 0;
  for (size_t i = 0; i < h_cpu.size(); ++i) flips += (h_cpu[i] > T(0)) != (h_gpu[i] > T(0));
  CHECK(flips <= 3);
  if (flips > 0) WARN(flips << " ReLU mask flip(s) between CPU and GPU: gradients compared loosely");
  const double tol = tolerance<T>();
  const double gtol = flips == 0 ? tol : 1e-1;
  CHECK(max_rel_error(h_gpu, h_cpu) < tol);
  const std::vector<T> grads_gpu = gpu.grads().to_host();
  CHECK(max_rel_error(dout.to_host(), out_cpu) < tol);
  CHECK(max_rel_error(grads_gpu, cpu.grads().to_host()) < gtol);
  CHECK(max_rel_error(ddx.to_host(), dx_cpu) < gtol);
  // Per layer too, so a failure names the block that differs.
  const std::vector<T> grads_cpu = cpu.grads().to_host();
  for (size_t l = 0; l < cpu.layers().size(); ++l) {
    const MlpLayer& layer = cpu.layers()[l];
    const auto w0 = grads_cpu.begin() + std::ptrdiff_t(layer.weight_offset);
    const auto g0 = grads_gpu.begin() + std::ptrdiff_t(layer.weight_offset);
    const size_t nw = size_t(layer.in) * size_t(layer.out);
    INFO("layer " << l);
    CHECK(max_rel_error(std::vector<T>(g0, g0 + std::ptrdiff_t(nw)),
                        std::vector<T>(w0, w0 + std::ptrdiff_t(nw))) < gtol);
    const auto bc = grads_cpu.begin() + std::ptrdiff_t(layer.bias_offset);
    const auto bg = grads_gpu.begin() + std::ptrdiff_t(layer.bias_offset);
    CHECK(max_rel_error(std::vector<T>(bg, bg + layer.out), std::vector<T>(bc, bc + layer.out)) <
          gtol);
  }

  // A second pass from zeroed gradients reproduces the first bit for bit (cuBLAS on one GPU and
  // the fixed-order column reduction are deterministic).
  gpu.zero_grad();
  gpu.forward(dx_in.data(), n, dout.data(), ws_gpu);
  gpu.backward(dx_in.data(), n, dd_out.data(), ddx.data(), ws_gpu);
  CHECK(gpu.grads().to_host() == grads_gpu);
}
