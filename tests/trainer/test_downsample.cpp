// The coarse-to-fine schedule's box downsampling: closed-form means, sizes that the factor does
// not divide, the downscaled camera on the same pixel grid, and CUDA = CPU.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "core/buffer.h"
#include "core/errors.h"
#include "tests/test_support.h"
#include "trainer/downsample.h"

using namespace gs;

TEST_CASE("downsample: each output pixel is the mean of its s x s block", "[downsample]") {
  // 5 × 3 pixels, 2 channels, factor 2 → 2 × 1: the last column and row are dropped.
  const int w = 5, h = 3, c = 2;
  std::vector<float> src(size_t(w * h * c));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) src[size_t((y * w + x) * c + k)] = float(100 * k + 10 * y + x);
  std::vector<float> dst(2 * 1 * c, -1.f);
  downsample_box(Device::cpu(), src.data(), w, h, c, 2, dst.data());
  // Block (0,0): x 0–1, y 0–1 → mean of 0, 1, 10, 11 = 5.5 (+100 in channel 1).
  CHECK(dst[0] == Approx(5.5));
  CHECK(dst[1] == Approx(105.5));
  // Block (1,0): x 2–3 → 7.5.
  CHECK(dst[2] == Approx(7.5));
  CHECK(dst[3] == Approx(107.5));
  // Factor 1 is a copy; a factor larger than the image is refused.
  std::vector<float> same(src.size());
  downsample_box(Device::cpu(), src.data(), w, h, c, 1, same.data());
  CHECK(same == src);
  CHECK_THROWS_AS(downsample_box(Device::cpu(), src.data(), w, h, c, 4, dst.data()), Error);
  CHECK_THROWS_AS(downsample_box(Device::cpu(), src.data(), w, h, c, 0, dst.data()), Error);
}

TEST_CASE("downsample: the downscaled camera sees a point in the block that holds it",
          "[downsample]") {
  Camera cam;
  cam.width = 161;  // not a multiple of 4: the camera and the image drop the same column
  cam.height = 96;
  cam.fx = 150.f;
  cam.fy = 140.f;
  cam.cx = 80.3f;
  cam.cy = 47.9f;
  const Camera small = downscaled_camera(cam, 4);
  CHECK(small.width == 40);
  CHECK(small.height == 24);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.4f, 0.4f);
  for (int t = 0; t < 200; ++t) {
    const float X = u(rng), Y = u(rng), Z = 1.f + u(rng) + 0.5f;
    const float px = cam.fx * X / Z + cam.cx, py = cam.fy * Y / Z + cam.cy;
    const float sx = small.fx * X / Z + small.cx, sy = small.fy * Y / Z + small.cy;
    // Continuous coordinates scale by exactly 1/s, so the point lies in the output pixel
    // that averages the input pixel it lies in.
    CHECK(sx == Approx(px / 4).margin(1e-4));
    CHECK(sy == Approx(py / 4).margin(1e-4));
    if (px >= 0 && py >= 0 && px < 160 && py < 96) {
      CHECK(int(sx) == int(px) / 4);
      CHECK(int(sy) == int(py) / 4);
    }
  }
}

TEST_CASE("CUDA downsampling matches the CPU: 1921x1081, 3 channels, factors 2 and 4",
          "[downsample][cuda]") {
  if (!gs::test::have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const int w = 1921, h = 1081, c = 3;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> src(size_t(w) * h * c);
  for (float& x : src) x = u(rng);
  const auto d_src = Buffer<float>::from_host(gpu, src, MemCategory::other);
  for (int s : {2, 4}) {
    const size_t out = size_t(w / s) * size_t(h / s) * c;
    std::vector<float> cpu(out);
    downsample_box(Device::cpu(), src.data(), w, h, c, s, cpu.data());
    Buffer<float> d_dst(gpu, out, MemCategory::other);
    downsample_box(gpu, d_src.data(), w, h, c, s, d_dst.data());
    INFO("factor " << s);
    CHECK(d_dst.to_host() == cpu);  // the same sums in the same order: bit-identical
  }
}
