// Initial Gaussians: grid kNN against brute force, subsampling to the cap, DC from colour.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "scene/init_gaussians.h"

using namespace gs;

TEST_CASE("grid kNN matches brute force", "[init]") {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> pts(3 * 500);
  for (float& v : pts) v = nd(rng);
  pts[0] = 40.f;  // a far outlier
  const std::vector<float> got = mean_sq_dist_knn(pts, 3);
  for (size_t i = 0; i < 500; i += 7) {
    std::vector<float> d;
    for (size_t j = 0; j < 500; ++j) {
      if (j == i) continue;
      float s = 0;
      for (int a = 0; a < 3; ++a) s += (pts[3 * i + a] - pts[3 * j + a]) * (pts[3 * i + a] - pts[3 * j + a]);
      d.push_back(s);
    }
    std::sort(d.begin(), d.end());
    CHECK(got[i] == Approx((d[0] + d[1] + d[2]) / 3).epsilon(1e-5));
  }
}

TEST_CASE("points become Gaussians, subsampled to the cap", "[init]") {
  std::vector<float> pts, cols;
  for (int i = 0; i < 100; ++i) {
    pts.insert(pts.end(), {float(i), 0.f, 0.f});
    cols.insert(cols.end(), {1.f, 0.5f, 0.f});
  }
  const GaussianCloud c = gaussians_from_points(pts, cols, 2, 40, 9);
  REQUIRE(c.size() == 40);
  CHECK(c.sh_degree == 2);
  for (size_t i = 0; i < c.size(); ++i) {
    CHECK(c.quats[4 * i] == 1.f);
    CHECK(1.f / (1.f + std::exp(-c.opacity_logits[i])) == Approx(0.1f));
    CHECK(c.sh[i * 27 + 0] * 0.28209479f + 0.5f == Approx(1.0f));
    CHECK(c.sh[i * 27 + 1] == Approx(0.0f).margin(1e-6));
    CHECK(c.sh[i * 27 + 3] == 0.f);  // higher coefficients start at zero
  }
  // Same seed, same subset.
  const GaussianCloud again = gaussians_from_points(pts, cols, 2, 40, 9);
  CHECK(again.means == c.means);
}
