// The image loss: SSIM against an independent direct 2D reference, gradients against central
// finite differences (borders included), PSNR, workspace accounting, and CPU/CUDA parity.
#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/test_support.h"
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/memory_accounting.h"
#include "optim/loss.h"
#include "optim/loss_impl.h"

using namespace gs;

namespace {

// A target in [0, 1] and a rendering near it whose every element differs from the target by at
// least 0.01, so finite differences never straddle the kink of |r − t|.
void make_pair(int width, int height, unsigned seed, std::vector<double>& rendered,
               std::vector<double>& target) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0), noise(0.01, 0.15), coin(0.0, 1.0);
  const size_t n = size_t(width) * height * 3;
  rendered.resize(n);
  target.resize(n);
  for (size_t i = 0; i < n; ++i) {
    target[i] = u(rng);
    const double d = noise(rng);
    rendered[i] = target[i] + (coin(rng) < 0.5 ? -d : d);
  }
}

std::vector<float> to_float(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}
std::vector<double> to_double(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

// The reference: a direct (non-separable) 11×11 Gaussian filter with zero padding, in double,
// written independently of loss_impl.h.
struct RefLoss {
  double l1, ssim, loss;
};
RefLoss reference_loss(int width, int height, const std::vector<double>& x,
                       const std::vector<double>& y, double lambda) {
  const double sigma = 1.5, c1 = 1e-4, c2 = 9e-4;
  double window[11][11], wsum = 0;
  for (int dy = -5; dy <= 5; ++dy)
    for (int dx = -5; dx <= 5; ++dx)
      wsum += window[dy + 5][dx + 5] = std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
  double ssim = 0, l1 = 0;
  for (int py = 0; py < height; ++py)
    for (int px = 0; px < width; ++px)
      for (int c = 0; c < 3; ++c) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int dy = -5; dy <= 5; ++dy)
          for (int dx = -5; dx <= 5; ++dx) {
            const int qx = px + dx, qy = py + dy;
            if (qx < 0 || qy < 0 || qx >= width || qy >= height) continue;
            const double w = window[dy + 5][dx + 5] / wsum;
            const double a = x[(size_t(qy) * width + qx) * 3 + c];
            const double b = y[(size_t(qy) * width + qx) * 3 + c];
            mx += w * a;
            my += w * b;
            xx += w * a * a;
            yy += w * b * b;
            xy += w * a * b;
          }
        const double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
        ssim += (2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        const size_t i = (size_t(py) * width + px) * 3 + c;
        l1 += std::abs(x[i] - y[i]);
      }
  const double n = double(width) * height * 3;
  RefLoss r{l1 / n, ssim / n, 0};
  r.loss = (1 - lambda) * r.l1 + lambda * (1 - r.ssim);
  return r;
}

std::vector<double> finite_difference_gradient(int width, int height, std::vector<double> x,
                                               const std::vector<double>& y, double lambda,
                                               double h) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = reference_loss(width, height, x, y, lambda).loss;
    x[i] = x0 - h;
    const double down = reference_loss(width, height, x, y, lambda).loss;
    x[i] = x0;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// max |a − b| / max |b|
double relative_max_error(const std::vector<double>& a, const std::vector<double>& b) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return err / scale;
}

struct SerialSum {
  template <class F>
  double operator()(const Device&, size_t n, F fn) const {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += fn(i);
    return s;
  }
};

// The loss passes of loss_impl.h instantiated in double on the CPU.
LossResult double_loss(int width, int height, const std::vector<double>& x,
                       const std::vector<double>& y, double lambda, std::vector<double>& v) {
  const size_t n = x.size();
  std::vector<std::vector<double>> storage(LossWorkspace::kLossMaps, std::vector<double>(n));
  loss_passes::LossMaps<double> maps{};
  for (int k = 0; k < LossWorkspace::kLossMaps; ++k) maps.map[k] = storage[k].data();
  v.assign(n, 0.0);
  return loss_passes::loss_forward_backward<double>(Device::cpu(), width, height, x.data(),
                                                    y.data(), lambda, v.data(), maps, SerialSum{});
}

LossResult float_loss(const Device& device, int width, int height, const std::vector<float>& x,
                      const std::vector<float>& y, float lambda, std::vector<float>* v,
                      LossWorkspace* ws = nullptr) {
  auto xb = Buffer<float>::from_host(device, x, MemCategory::images);
  auto yb = Buffer<float>::from_host(device, y, MemCategory::images);
  Buffer<float> vb(device, x.size(), MemCategory::grads);
  const LossResult r = image_loss_forward_backward(device, width, height, xb.data(), yb.data(),
                                                   lambda, v ? vb.data() : nullptr, ws);
  if (v) *v = vb.to_host();
  return r;
}

}  // namespace

TEST_CASE("SSIM of an image with itself is 1, the loss and its gradient 0", "[loss]") {
  std::vector<double> r, t;
  make_pair(23, 19, 1, r, t);
  const std::vector<float> img = to_float(t);
  std::vector<float> v;
  const LossResult res = float_loss(Device::cpu(), 23, 19, img, img, 0.2f, &v);
  CHECK(res.ssim == Approx(1.0).margin(1e-6));
  CHECK(res.l1 == 0.0);
  CHECK(res.loss == Approx(0.0).margin(1e-6));
  float vmax = 0;
  for (float g : v) vmax = std::max(vmax, std::abs(g));
  CHECK(vmax < 1e-6f);
  auto b = Buffer<float>::from_host(Device::cpu(), img, MemCategory::images);
  CHECK(ssim_value(Device::cpu(), 23, 19, b.data(), b.data()) == Approx(1.0).margin(1e-6));
}

TEST_CASE("SSIM and L1 match a direct 2D double reference", "[loss]") {
  const int sizes[][2] = {{13, 9}, {17, 16}, {4, 3}, {31, 7}};
  unsigned seed = 10;
  for (const auto& s : sizes) {
    const int w = s[0], h = s[1];
    std::vector<double> r, t;
    make_pair(w, h, seed++, r, t);
    const std::vector<float> rf = to_float(r), tf = to_float(t);
    // The reference sees exactly the float inputs.
    const RefLoss ref = reference_loss(w, h, to_double(rf), to_double(tf), 0.2);
    INFO(w << "x" << h);
    const LossResult got = float_loss(Device::cpu(), w, h, rf, tf, 0.2f, nullptr);
    CHECK(got.ssim == Approx(ref.ssim).epsilon(1e-5));
    CHECK(got.l1 == Approx(ref.l1).epsilon(1e-6));
    CHECK(got.loss == Approx(ref.loss).epsilon(1e-5));
    // With the backward pass the values are the same.
    std::vector<float> v;
    const LossResult got2 = float_loss(Device::cpu(), w, h, rf, tf, 0.2f, &v);
    CHECK(got2.ssim == Approx(got.ssim).epsilon(1e-6));
    CHECK(got2.l1 == Approx(got.l1).epsilon(1e-6));
    std::vector<double> vd;
    const LossResult dbl = double_loss(w, h, to_double(rf), to_double(tf), 0.2, vd);
    CHECK(dbl.ssim == Approx(ref.ssim).epsilon(1e-12));
    CHECK(dbl.loss == Approx(ref.loss).epsilon(1e-12));
  }
}

TEST_CASE("loss gradient matches central finite differences", "[loss]") {
  const int sizes[][2] = {{13, 9}, {17, 16}};
  const double lambdas[] = {0.2, 1.0};
  unsigned seed = 100;
  for (const auto& s : sizes)
    for (double lambda : lambdas) {
      const int w = s[0], h = s[1];
      std::vector<double> r, t;
      make_pair(w, h, seed++, r, t);
      INFO(w << "x" << h << " lambda " << lambda);
      const std::vector<double> fd = finite_difference_gradient(w, h, r, t, lambda, 1e-5);
      // The same passes in double: an exact check of the derivation.
      std::vector<double> vd;
      double_loss(w, h, r, t, lambda, vd);
      CHECK(relative_max_error(vd, fd) < 1e-7);
      // The float product path: within float rounding of the double gradient.
      std::vector<float> vf;
      float_loss(Device::cpu(), w, h, to_float(r), to_float(t), float(lambda), &vf);
      CHECK(relative_max_error(to_double(vf), fd) < 2e-4);
    }
}

TEST_CASE("PSNR has its closed form", "[loss]") {
  const int w = 10, h = 7;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.2f, 0.8f);
  std::vector<float> t(size_t(w) * h * 3), r(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    t[i] = u(rng);
    r[i] = t[i] + (i % 2 ? 0.1f : -0.1f);
  }
  auto tb = Buffer<float>::from_host(Device::cpu(), t, MemCategory::images);
  auto rb = Buffer<float>::from_host(Device::cpu(), r, MemCategory::images);
  CHECK(psnr(Device::cpu(), w, h, rb.data(), tb.data()) == Approx(20.0).epsilon(1e-5));
  CHECK(std::isinf(psnr(Device::cpu(), w, h, tb.data(), tb.data())));
}

TEST_CASE("loss workspace is accounted, bounded and reused", "[loss]") {
  MemoryAccountant& acc = MemoryAccountant::of(DeviceKind::CPU);
  const int w = 40, h = 30;
  std::vector<double> r, t;
  make_pair(w, h, 7, r, t);
  const std::vector<float> rf = to_float(r), tf = to_float(t);
  const size_t before = acc.current(MemCategory::raster);
  LossWorkspace ws;
  std::vector<float> v;
  const LossResult a = float_loss(Device::cpu(), w, h, rf, tf, 0.2f, &v, &ws);
  CHECK(ws.bytes() == LossWorkspace::kBytesPerPixel * size_t(w) * h);
  CHECK(LossWorkspace::kBytesPerPixel == 96);
  CHECK(acc.current(MemCategory::raster) - before == ws.bytes());
  // A second step reuses the maps and gives the same answer.
  const float* first = ws.map(0);
  std::vector<float> v2;
  const LossResult b = float_loss(Device::cpu(), w, h, rf, tf, 0.2f, &v2, &ws);
  CHECK(ws.map(0) == first);
  CHECK(b.loss == a.loss);
  CHECK(v2 == v);
  ws.release();
  CHECK(acc.current(MemCategory::raster) == before);

  // Under a cap too small for the maps the loss refuses before allocating.
  {
    ScopedMemoryCap cap(DeviceKind::CPU, acc.current_total() + 1024);
    CHECK_THROWS_AS(float_loss(Device::cpu(), w, h, rf, tf, 0.2f, &v), OutOfMemoryError);
  }
  CHECK(acc.current(MemCategory::raster) == before);
}

TEST_CASE("loss rejects bad arguments", "[loss]") {
  std::vector<float> img(12, 0.5f);
  std::vector<float> v(12);
  CHECK_THROWS_AS(
      image_loss_forward_backward(Device::cpu(), 0, 4, img.data(), img.data(), 0.2f, v.data()),
      Error);
  CHECK_THROWS_AS(
      image_loss_forward_backward(Device::cpu(), 2, 2, img.data(), img.data(), 1.5f, v.data()),
      Error);
  CHECK_THROWS_AS(psnr(Device::cpu(), 2, -2, img.data(), img.data()), Error);
  if (!built_with_cuda())
    CHECK_THROWS_AS(
        image_loss_forward_backward(Device::cuda(), 2, 2, img.data(), img.data(), 0.2f, v.data()),
        Error);
}

TEST_CASE("loss CPU/CUDA parity", "[loss][cuda]") {
  if (!cuda_available()) {
    GS_SKIP("no CUDA device");
    return;
  }
  const int sizes[][2] = {{13, 9}, {17, 16}, {200, 120}};
  unsigned seed = 300;
  for (const auto& s : sizes) {
    const int w = s[0], h = s[1];
    INFO(w << "x" << h);
    std::vector<double> r, t;
    make_pair(w, h, seed++, r, t);
    const std::vector<float> rf = to_float(r), tf = to_float(t);
    std::vector<float> vc, vg;
    const LossResult cpu = float_loss(Device::cpu(), w, h, rf, tf, 0.2f, &vc);
    LossWorkspace ws;
    const LossResult gpu = float_loss(Device::cuda(), w, h, rf, tf, 0.2f, &vg, &ws);
    CHECK(gpu.l1 == Approx(cpu.l1).epsilon(1e-6));
    CHECK(gpu.ssim == Approx(cpu.ssim).epsilon(1e-6));
    CHECK(gpu.loss == Approx(cpu.loss).epsilon(1e-6));
    CHECK(relative_max_error(to_double(vg), to_double(vc)) < 1e-5);
    const LossResult fwd = float_loss(Device::cuda(), w, h, rf, tf, 0.2f, nullptr, &ws);
    CHECK(fwd.loss == Approx(cpu.loss).epsilon(1e-6));

    auto rc = Buffer<float>::from_host(Device::cpu(), rf, MemCategory::images);
    auto tc = Buffer<float>::from_host(Device::cpu(), tf, MemCategory::images);
    auto rg = Buffer<float>::from_host(Device::cuda(), rf, MemCategory::images);
    auto tg = Buffer<float>::from_host(Device::cuda(), tf, MemCategory::images);
    CHECK(psnr(Device::cuda(), w, h, rg.data(), tg.data()) ==
          Approx(psnr(Device::cpu(), w, h, rc.data(), tc.data())).epsilon(1e-9));
    CHECK(ssim_value(Device::cuda(), w, h, rg.data(), tg.data()) ==
          Approx(ssim_value(Device::cpu(), w, h, rc.data(), tc.data())).epsilon(1e-6));
  }
}
