// Deformation-network groundwork: positional encoding and the CPU MLP, checked against central
// finite differences in double, a closed form, and chunked-vs-single-pass equality (the basis of
// bounded activation memory).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "deform/mlp.h"
#include "deform/positional_encoding.h"
#include "tests/deform/gradient_check.h"

using namespace gs;
using gs::test::central_difference;
using gs::test::dot;
using gs::test::random_vector;

namespace {
// Gradients near zero are compared absolutely below this magnitude.
double rel_err(double analytic, double numeric) { return gs::test::rel_err(analytic, numeric, 1e-3); }
}  // namespace

namespace {

// 3 hidden layers of width 16, skip after layer 2 (0-based 1), two heads.
MlpConfig small_config() {
  MlpConfig c;
  c.input_dim = 5;
  c.hidden_width = 16;
  c.hidden_layers = 3;
  c.skip_after = 1;
  c.head_dims = {3, 4};
  c.seed = 7;
  return c;
}

}  // namespace

TEST_CASE("positional encoding: layout and values", "[deform]") {
  PositionalEncoding enc{2, 3, true};
  REQUIRE(enc.output_dim() == 2 * (1 + 2 * 3));
  const std::vector<double> p = {0.25, -0.5};
  std::vector<double> g(enc.output_dim());
  positional_encoding_forward(enc, p.data(), 1, g.data());
  CHECK(g[0] == 0.25);
  CHECK(g[1] == -0.5);
  const double pi = 3.14159265358979323846;
  for (int k = 0; k < 3; ++k)
    for (int d = 0; d < 2; ++d) {
      const double f = std::ldexp(pi, k);
      CHECK(g[2 + 4 * k + d] == Approx(std::sin(f * p[d])).margin(1e-15));
      CHECK(g[2 + 4 * k + 2 + d] == Approx(std::cos(f * p[d])).margin(1e-15));
    }
  PositionalEncoding no_raw{2, 3, false};
  CHECK(no_raw.output_dim() == 12);
}

TEST_CASE("positional encoding: backward matches finite differences", "[deform]") {
  for (bool include_input : {true, false}) {
    PositionalEncoding enc{3, 6, include_input};
    const size_t n = 4;
    std::vector<double> p = random_vector(n * 3, 1);
    const std::vector<double> c = random_vector(n * enc.output_dim(), 2);  // L = Σ c·γ
    std::vector<double> g(c.size()), dp(p.size());
    positional_encoding_backward(enc, p.data(), n, c.data(), dp.data());
    auto loss = [&] {
      positional_encoding_forward(enc, p.data(), n, g.data());
      return dot(c, g);
    };
    const double h = 1e-6;
    for (size_t j = 0; j < p.size(); ++j) {
      const double numeric = central_difference(p[j], h, loss);
      CHECK(rel_err(dp[j], numeric) < 1e-6);
    }
    // accumulate adds onto what is there.
    std::vector<double> acc(p.size(), 1.0);
    positional_encoding_backward(enc, p.data(), n, c.data(), acc.data(), true);
    for (size_t j = 0; j < p.size(); ++j) CHECK(acc[j] == Approx(dp[j] + 1.0).epsilon(1e-14));
  }
}

TEST_CASE("mlp: input and parameter gradients match finite differences", "[deform]") {
  Mlp<double> mlp(small_config());
  const size_t n = 6, D = 5, O = size_t(mlp.output_dim());
  REQUIRE(O == 7);
  std::vector<double> x = random_vector(n * D, 3);
  const std::vector<double> c = random_vector(n * O, 4);  // L = Σ c·out
  std::vector<double> out(n * O), dx(n * D);
  MlpWorkspace<double> ws = mlp.make_workspace(n);
  mlp.zero_grad();
  mlp.forward(x.data(), n, out.data(), ws);
  mlp.backward(x.data(), n, c.data(), dx.data(), ws);
  const std::vector<double> grads = mlp.grads().to_host();

  auto loss = [&] {
    mlp.forward(x.data(), n, out.data(), ws);
    return dot(c, out);
  };
  const double h = 1e-6;
  for (size_t j = 0; j < x.size(); ++j) {
    const double numeric = central_difference(x[j], h, loss);
    INFO("input " << j);
    CHECK(rel_err(dx[j], numeric) < 1e-6);
  }

  // A sample of every layer's weights (incl. both skip-layer column blocks) and all biases.
  double* p = mlp.params().data();
  std::vector<size_t> sample;
  for (const MlpLayer& layer : mlp.layers()) {
    for (size_t i = 0; i < size_t(layer.in) * layer.out; i += 7) sample.push_back(layer.weight_offset + i);
    for (int o = 0; o < layer.out; ++o) sample.push_back(layer.bias_offset + o);
  }
  size_t nonzero = 0;
  for (size_t j : sample) {
    const double numeric = central_difference(p[j], h, loss);
    INFO("param " << j);
    CHECK(rel_err(grads[j], numeric) < 1e-6);
    nonzero += grads[j] != 0.0;
  }
  CHECK(nonzero > sample.size() / 2);  // the check is not vacuous (ReLU kept most paths alive)
}

TEST_CASE("mlp: a net without hidden layers is W·x + b", "[deform]") {
  MlpConfig cfg;
  cfg.input_dim = 4;
  cfg.hidden_layers = 0;
  cfg.head_dims = {3};
  cfg.seed = 11;
  Mlp<double> mlp(cfg);
  REQUIRE(mlp.layers().size() == 1);
  const MlpLayer& layer = mlp.layers()[0];
  REQUIRE(mlp.params().size() == 4 * 3 + 3);
  const double* p = mlp.params().data();
  for (size_t i = 0; i < mlp.params().size(); ++i) CHECK(std::abs(p[i]) <= 0.5);  // 1/√4
  const std::vector<double> x = random_vector(2 * 4, 5);
  std::vector<double> out(2 * 3);
  MlpWorkspace<double> ws = mlp.make_workspace(2);
  mlp.forward(x.data(), 2, out.data(), ws);
  for (int r = 0; r < 2; ++r)
    for (int o = 0; o < 3; ++o) {
      double expect = p[layer.bias_offset + o];
      for (int k = 0; k < 4; ++k) expect += p[layer.weight_offset + o * 4 + k] * x[r * 4 + k];
      CHECK(out[r * 3 + o] == Approx(expect).epsilon(1e-14));
    }
  // Same seed, same weights; another seed, others.
  Mlp<double> same(cfg);
  CHECK(same.params().to_host() == mlp.params().to_host());
  cfg.seed = 12;
  Mlp<double> other(cfg);
  CHECK(other.params().to_host() != mlp.params().to_host());
}

TEST_CASE("mlp: chunked passes equal one pass", "[deform]") {
  Mlp<double> mlp(small_config());
  const size_t n = 53, D = 5, O = size_t(mlp.output_dim());
  const std::vector<double> x = random_vector(n * D, 6);
  const std::vector<double> d_out = random_vector(n * O, 8);

  std::vector<double> out_full(n * O), dx_full(n * D);
  {
    MlpWorkspace<double> ws = mlp.make_workspace(n);
    mlp.zero_grad();
    mlp.forward(x.data(), n, out_full.data(), ws);
    mlp.backward(x.data(), n, d_out.data(), dx_full.data(), ws);
  }
  const std::vector<double> grads_full = mlp.grads().to_host();

  const size_t chunk = 8;  // 53 = 6·8 + 5: the last chunk is partial
  std::vector<double> out(n * O), dx(n * D);
  MlpWorkspace<double> ws = mlp.make_workspace(chunk);
  mlp.zero_grad();
  for (size_t r = 0; r < n; r += chunk) {
    const size_t m = std::min(chunk, n - r);
    mlp.forward(x.data() + r * D, m, out.data() + r * O, ws);
    mlp.backward(x.data() + r * D, m, d_out.data() + r * O, dx.data() + r * D, ws);
  }
  const std::vector<double> grads = mlp.grads().to_host();
  CHECK(out == out_full);
  CHECK(dx == dx_full);
  for (size_t j = 0; j < grads.size(); ++j)
    CHECK(grads[j] == Approx(grads_full[j]).epsilon(1e-12).margin(1e-14));

  // A chunk larger than the workspace is refused, not overrun.
  std::vector<double> big(2 * chunk * O);
  CHECK_THROWS(mlp.forward(x.data(), 2 * chunk, big.data(), ws));
}

TEST_CASE("mlp: memory figures and float build", "[deform]") {
  MlpConfig cfg;  // Deformable-3DGS's size: γ(x) with L=10 (63) + γ(t) with L=6 (13)
  cfg.input_dim = 63 + 13;
  cfg.hidden_width = 256;
  cfg.hidden_layers = 8;
  cfg.skip_after = 4;
  cfg.head_dims = {3, 4, 3};
  Mlp<float> mlp(cfg);
  // Layer 0 reads 76; layers 1–4, 6, 7 read 256; layer 5 reads [x, h] = 332; heads read 256.
  const size_t hidden = (76 + 1) * 256 + 6 * (256 + 1) * 256 + (332 + 1) * 256;
  CHECK(mlp.params().size() == hidden + (256 + 1) * 10);
  CHECK(mlp.weight_bytes() == mlp.params().size() * sizeof(float));
  CHECK(mlp.workspace_bytes_per_row() == (8 + 2) * 256 * sizeof(float));
  CHECK(mlp.io_bytes_per_row() == 2 * (76 + 10) * sizeof(float));
  const size_t per_row = mlp.workspace_bytes_per_row() + mlp.io_bytes_per_row();
  CHECK(mlp.rows_for_budget(100 * per_row + 5) == 100);
  CHECK(mlp.rows_for_budget(0) == 1);

  // float forward/backward runs and agrees with the double net loosely.
  const size_t n = 3;
  std::vector<float> x(n * cfg.input_dim, 0.1f), out(n * 10), d_out(n * 10, 1.0f),
      dx(n * cfg.input_dim);
  MlpWorkspace<float> ws = mlp.make_workspace(n);
  mlp.forward(x.data(), n, out.data(), ws);
  mlp.backward(x.data(), n, d_out.data(), dx.data(), ws);
  for (float v : out) CHECK(std::isfinite(v));
  for (float v : dx) CHECK(std::isfinite(v));
}
