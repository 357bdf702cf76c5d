// Densification under a capacity: counts, the capacity bound, the raised threshold, and
// optimizer state travelling with its Gaussian.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "core/buffer.h"
#include "scene/densify.h"
#include "tests/test_support.h"

using namespace gs;

namespace {

// n Gaussians at distinct x positions; Gaussian i has opacity logit 2 and tiny scales, and its
// Adam m of the means group tags it (= i + 1) so tests can follow rows.
GaussianModel make_model(size_t n, size_t capacity, float log_scale = -5.f) {
  GaussianModel m("node", Device::cpu(), 1, capacity);
  GaussianCloud c;
  c.resize(n, 1);
  for (size_t i = 0; i < n; ++i) {
    c.means[3 * i] = float(i);
    for (int j = 0; j < 3; ++j) c.log_scales[3 * i + j] = log_scale;
    c.quats[4 * i] = 1;
    c.opacity_logits[i] = 2;
  }
  m.load_cloud(c);
  m.with_host_arrays(
      [&](ModelHostArrays& a) {
        for (size_t i = 0; i < n; ++i)
          for (int j = 0; j < 3; ++j) a.adam_m[0][3 * i + j] = float(i + 1);
      },
      true);
  return m;
}

void set_grad(GaussianModel& m, size_t i, float avg) {
  m.absgrad_accum()[i] = 2 * avg;
  m.grad_count()[i] = 2;
}

}  // namespace

TEST_CASE("clone admits every candidate when capacity allows", "[densify]") {
  GaussianModel m = make_model(10, 100);
  for (size_t i : {1, 4, 7}) set_grad(m, i, 0.01f);
  std::mt19937_64 rng(1);
  DensifySettings s;
  s.scene_extent = 1.0;
  const DensifyResult r = densify_and_prune(m, s, rng);
  CHECK(r.candidates == 3);
  CHECK(r.cloned == 3);
  CHECK(r.split == 0);
  CHECK(m.count() == 13);
  CHECK(r.threshold_used == Approx(s.grad_threshold));
  // Clones are exact copies with fresh (zero) moments; originals keep theirs.
  const float* means = m.params(GaussianParam::means);
  CHECK(means[3 * 10] == 1.0f);
  CHECK(means[3 * 12] == 7.0f);
  CHECK(m.adam_m(GaussianParam::means)[3 * 10] == 0.0f);
  CHECK(m.adam_m(GaussianParam::means)[3 * 4] == 5.0f);
  // Statistics are reset for everyone.
  for (size_t i = 0; i < m.count(); ++i) CHECK(m.grad_count()[i] == 0.0f);
}

TEST_CASE("the capacity binds: threshold rises to admit only what fits", "[densify]") {
  GaussianModel m = make_model(10, 13);
  for (size_t i = 0; i < 10; ++i) set_grad(m, i, 0.001f * float(i + 1));  // all pass 2e-4
  std::mt19937_64 rng(1);
  DensifySettings s;
  const DensifyResult r = densify_and_prune(m, s, rng);
  CHECK(r.candidates == 10);
  CHECK(r.admitted == 3);
  CHECK(m.count() == 13);
  CHECK(m.count() <= m.capacity());
  // The three largest gradients (Gaussians 7, 8, 9) won; the threshold is the 3rd largest.
  CHECK(r.threshold_used == Approx(0.008));
  const float* means = m.params(GaussianParam::means);
  std::vector<float> cloned = {means[30], means[33], means[36]};
  std::sort(cloned.begin(), cloned.end());
  CHECK(cloned == std::vector<float>{7, 8, 9});
  // A full node admits nothing and says so with an infinite threshold.
  for (size_t i = 0; i < 13; ++i) set_grad(m, i, 0.01f);
  const DensifyResult full = densify_and_prune(m, s, rng);
  CHECK(full.admitted == 0);
  CHECK(std::isinf(full.threshold_used));
  CHECK(m.count() == 13);
}

TEST_CASE("split replaces a large Gaussian by two smaller ones", "[densify]") {
  GaussianModel m = make_model(4, 10, std::log(0.5f));
  set_grad(m, 2, 0.01f);
  std::mt19937_64 rng(3);
  DensifySettings s;
  s.scene_extent = 1.0;  // 0.5 > 0.01 × extent: split
  const DensifyResult r = densify_and_prune(m, s, rng);
  CHECK(r.split == 1);
  CHECK(m.count() == 5);
  const float* ls = m.params(GaussianParam::log_scales);
  const float* means = m.params(GaussianParam::means);
  // Survivors 0, 1, 3 keep their order and moments; the new pair sits at the end.
  CHECK(means[3 * 2] == 3.0f);
  CHECK(m.adam_m(GaussianParam::means)[3 * 2] == 4.0f);
  for (size_t i : {3, 4}) {
    CHECK(ls[3 * i] == Approx(std::log(0.5f / 1.6f)));
    CHECK(std::abs(means[3 * i] - 2.0f) < 3.0f);  // sampled around the original
    CHECK(m.adam_m(GaussianParam::means)[3 * i] == 0.0f);
  }
}

TEST_CASE("pruning removes transparent Gaussians and frees capacity", "[densify]") {
  GaussianModel m = make_model(6, 6);
  m.params(GaussianParam::opacity)[1] = -10;  // opacity ~ 4.5e-5
  m.params(GaussianParam::opacity)[4] = NAN;
  std::mt19937_64 rng(1);
  const DensifyResult r = densify_and_prune(m, DensifySettings{}, rng);
  CHECK(r.pruned == 2);
  CHECK(m.count() == 4);
  CHECK(m.params(GaussianParam::means)[3 * 1] == 2.0f);
  CHECK(m.adam_m(GaussianParam::means)[3 * 1] == 3.0f);  // moments moved with their Gaussian
}

TEST_CASE("recovery pruning and opacity reset", "[densify]") {
  GaussianModel m = make_model(10, 10);
  for (size_t i = 0; i < 10; ++i) m.params(GaussianParam::opacity)[i] = float(i);
  CHECK(prune_lowest_opacity(m, 0.2) == 2);
  CHECK(m.count() == 8);
  CHECK(m.params(GaussianParam::opacity)[0] == 2.0f);
  reset_opacity(m, 0.01f);
  for (size_t i = 0; i < m.count(); ++i)
    CHECK(m.params(GaussianParam::opacity)[i] == Approx(std::log(0.01f / 0.99f)));
}

TEST_CASE("a cloud larger than the capacity is refused", "[densify]") {
  GaussianModel m("n", Device::cpu(), 0, 4);
  GaussianCloud c;
  c.resize(5, 0);
  CHECK_THROWS_AS(m.load_cloud(c), Error);
  CHECK(m.allocated_bytes() == 4 * (4 * 3 * 14 + 12));
}

TEST_CASE("the prune floor spares the most opaque of the doomed, and logs how many",
          "[densify]") {
  GaussianModel m = make_model(10, 10);
  // Every opacity below min_opacity; Gaussian i has logit −10 + i/10, one is NaN.
  for (size_t i = 0; i < 10; ++i) m.params(GaussianParam::opacity)[i] = -10.f + 0.1f * float(i);
  m.params(GaussianParam::opacity)[9] = NAN;
  std::mt19937_64 rng(1);
  DensifySettings s;
  s.min_keep = 3;
  const DensifyResult r = densify_and_prune(m, s, rng);
  CHECK(r.spared == 3);
  CHECK(r.pruned == 7);
  REQUIRE(m.count() == 3);
  // Gaussians 6, 7, 8: the highest finite opacities, in their original order.
  for (size_t k = 0; k < 3; ++k) CHECK(m.params(GaussianParam::means)[3 * k] == float(6 + k));
  // Without a floor the node empties (the trainer then fails the run, naming the step).
  GaussianModel e = make_model(10, 10);
  for (size_t i = 0; i < 10; ++i) e.params(GaussianParam::opacity)[i] = -10.f;
  DensifySettings none;
  none.min_keep = 0;
  CHECK(densify_and_prune(e, none, rng).spared == 0);
  CHECK(e.count() == 0);
  // Recovery pruning never takes the last one.
  GaussianModel one = make_model(1, 1);
  CHECK(prune_lowest_opacity(one, 0.5) == 0);
  CHECK(one.count() == 1);
}

TEST_CASE("screen-size pruning is off at 0 and a limit on the image fraction when set",
          "[densify]") {
  GaussianModel m = make_model(4, 4);
  // Screen sizes are fractions of the larger image side: 0.1 … 0.4.
  for (size_t i = 0; i < 4; ++i) m.max_screen_size()[i] = 0.1f * float(i + 1);
  std::mt19937_64 rng(1);
  DensifySettings s;
  s.prune_big = true;  // after the first reset
  s.scene_extent = 1000.0;
  CHECK(densify_and_prune(m, s, rng).pruned == 0);  // prune_screen_size 0: off (the default)
  for (size_t i = 0; i < 4; ++i) m.max_screen_size()[i] = 0.1f * float(i + 1);
  s.prune_screen_size = 0.25f;
  CHECK(densify_and_prune(m, s, rng).pruned == 2);
  CHECK(m.count() == 2);
}

TEST_CASE("a candidate big on screen is split however small in the world (drivestudio)",
          "[densify]") {
  // Four tiny candidates (clones by their world size); 2 and 3 cover 10% and 30% of the image.
  GaussianModel m = make_model(4, 20);
  for (size_t i = 0; i < 4; ++i) set_grad(m, i, 0.01f);
  m.max_screen_size()[2] = 0.1f;
  m.max_screen_size()[3] = 0.3f;
  std::mt19937_64 rng(1);
  DensifySettings s;
  s.scene_extent = 1.0;
  SECTION("off: all cloned") {
    const DensifyResult r = densify_and_prune(m, s, rng);
    CHECK(r.cloned == 4);
    CHECK(r.split == 0);
  }
  SECTION("at 0.05 of the image side: the two big ones split") {
    s.split_screen_size = 0.05f;
    const DensifyResult r = densify_and_prune(m, s, rng);
    CHECK(r.cloned == 2);
    CHECK(r.split == 2);
    CHECK(m.count() == 4 + 2 + 2);  // two clones; each split adds two and removes its source
    // The split children are 1.6× smaller than their source.
    const float* ls = m.params(GaussianParam::log_scales);
    size_t smaller = 0;
    for (size_t i = 0; i < m.count(); ++i)
      smaller += std::abs(ls[3 * i] - (-5.0 - std::log(1.6))) < 1e-4 ? 1 : 0;
    CHECK(smaller == 4);
  }
}

TEST_CASE("screen sizes are accumulated as fractions of the larger image side", "[densify]") {
  GaussianModel m = make_model(3, 3);
  const std::vector<float> grad2d(6, 0.f);
  const std::vector<int32_t> radii = {8, 0, 40};
  Camera cam;
  cam.width = 160;
  cam.height = 96;
  accumulate_densify_stats(m, grad2d.data(), radii.data(), cam);
  CHECK(m.max_screen_size()[0] == Approx(8.0 / 160));
  CHECK(m.max_screen_size()[1] == 0.0f);  // not visible
  CHECK(m.max_screen_size()[2] == Approx(40.0 / 160));
  // The same Gaussian at half the resolution (the ½ schedule): the same fraction, the max kept.
  cam.width = 80;
  cam.height = 48;
  const std::vector<int32_t> half = {4, 0, 10};
  accumulate_densify_stats(m, grad2d.data(), half.data(), cam);
  CHECK(m.max_screen_size()[0] == Approx(8.0 / 160));
  CHECK(m.max_screen_size()[2] == Approx(40.0 / 160));
  CHECK(m.grad_count()[1] == 0.0f);
  CHECK(m.grad_count()[2] == 2.0f);
}

TEST_CASE("CUDA densify statistics match the CPU: 150k Gaussians over views of two sizes",
          "[densify][cuda]") {
  if (!gs::test::have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const size_t n = 150001;
  GaussianModel cpu = make_model(n, n);
  GaussianModel dev("node", gpu, 1, n);
  GaussianCloud c;
  c.resize(n, 1);
  for (size_t i = 0; i < n; ++i) c.quats[4 * i] = 1;
  dev.load_cloud(c);
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> g(-1e-3f, 1e-3f);
  std::uniform_int_distribution<int32_t> r(-5, 300);  // radii ≤ 0: not visible in that view
  for (int view = 0; view < 6; ++view) {
    Camera cam;
    cam.width = view % 2 ? 800 : 400;
    cam.height = view % 2 ? 600 : 300;
    std::vector<float> grad2d(2 * n);
    std::vector<int32_t> radii(n);
    for (float& x : grad2d) x = g(rng);
    for (int32_t& x : radii) x = r(rng);
    accumulate_densify_stats(cpu, grad2d.data(), radii.data(), cam, 400.f, 300.f);
    const auto d_grad = Buffer<float>::from_host(gpu, grad2d, MemCategory::other);
    const auto d_radii = Buffer<int32_t>::from_host(gpu, radii, MemCategory::other);
    accumulate_densify_stats(dev, d_grad.data(), d_radii.data(), cam, 400.f, 300.f);
  }
  dev.with_host_arrays(
      [&](ModelHostArrays& a) {
        for (size_t i = 0; i < n; ++i) {
          INFO("Gaussian " << i);
          REQUIRE(a.grad_count[i] == cpu.grad_count()[i]);
          REQUIRE(a.max_screen_size[i] == cpu.max_screen_size()[i]);
          // nvcc may fuse gx² + gy² into an FMA: equal to float rounding.
          REQUIRE(a.absgrad_accum[i] == Approx(cpu.absgrad_accum()[i]).epsilon(1e-5));
        }
      },
      false);
}
