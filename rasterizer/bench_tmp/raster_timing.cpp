// TEMPORARY (not committed): ad-hoc timing of forward/backward on CPU and CUDA.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include "core/device.h"
#include "core/buffer.h"
#include "rasterizer/rasterize.h"
#include "tests/rasterizer/raster_test_util.h"
using namespace gs;
using namespace gs::test;
int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 100000;
  const int W = argc > 2 ? std::stoi(argv[2]) : 800, H = argc > 3 ? std::stoi(argv[3]) : 600;
  const std::string dev = argc > 4 ? argv[4] : "cpu";
  const int reps = argc > 5 ? std::stoi(argv[5]) : 3;
  std::mt19937 rng(1);
  const float focal = 0.8f * W;
  HostScene<double> sd = random_scene(rng, n, W, H, focal);
  const double shrink = argc > 6 ? std::stod(argv[6]) : 1.0;
  for (double& l : sd.log_scales) l -= shrink;
  HostScene<float> s = sd.cast<float>();
  const Camera cam = test_camera(W, H, focal);
  const Device d = resolve_device(dev);
  auto up = [&](const std::vector<float>& v) { return Buffer<float>::from_host(d, v, MemCategory::other); };
  auto m = up(s.means), ls = up(s.log_scales), q = up(s.quats), o = up(s.opacity_logits), c = up(s.colors);
  GaussianInputs in{s.count(), m.data(), ls.data(), q.data(), o.data(), c.data()};
  std::vector<float> w(size_t(W) * H * 3, 0.01f);
  auto vr = up(w);
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    RasterForward f = rasterize_forward(d, in, cam, {});
    synchronize(d);
    auto t1 = std::chrono::steady_clock::now();
    RasterGradients g = rasterize_backward(d, in, cam, {}, f, vr.data(), nullptr, nullptr);
    synchronize(d);
    auto t2 = std::chrono::steady_clock::now();
    std::printf("%s n=%d %dx%d visible=%zu instances=%zu fwd %.2f ms bwd %.2f ms held %.1f MB\n", dev.c_str(), n, W, H,
                f.stats.visible, f.stats.instances,
                std::chrono::duration<double, std::milli>(t1 - t0).count(),
                std::chrono::duration<double, std::milli>(t2 - t1).count(), f.bytes() / 1e6);
  }
}
