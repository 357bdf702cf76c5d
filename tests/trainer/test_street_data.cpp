// Street data prepared for training: drivestudio's random background points (near ones in the
// scene sphere, far ones at 1 … 50 R, only those a training camera sees, random colours) and the
// options that ask for them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "config/config.h"
#include "core/errors.h"
#include "tests/test_support.h"
#include "tests/trainer/street_test_util.h"
#include "trainer/downsample.h"
#include "trainer/street_data.h"
#include "trainer/street_losses.h"

using namespace gs;
using gs::test::TempDir;

namespace {

Config street_config(const std::string& scene, int64_t near, int64_t far) {
  const std::string yaml = R"(scene: omnire
data:
  format: street
  cameras: 3
  frames: 12
  test_every: 4
nodes:
  background:
    kind: background
    init_points: 40000
)";
  return parse_config(yaml, "test street data config",
                      {"data.path=" + scene, "device=cpu",
                       "nodes.background.near_random_points=" + std::to_string(near),
                       "nodes.background.far_random_points=" + std::to_string(far)});
}

bool seen(const Dataset& data, const float* p) {
  for (const View& v : data.train) {
    const Camera& c = v.camera;
    const float* m = c.world_to_camera;
    const double z = m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11];
    if (z <= 0) continue;
    const double u = c.fx * (m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3]) / z + c.cx;
    const double w = c.fy * (m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7]) / z + c.cy;
    if (u >= 0 && w >= 0 && u < c.width && w < c.height) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("street data: random near and far background points, seen by a camera",
          "[street][data]") {
  TempDir dir("street_data_random");
  const std::string scene = gs::test::make_test_street(dir, 2);
  Dataset plain, near_only, both;
  load_street_training(scene, street_config(scene, 0, 0), plain);
  load_street_training(scene, street_config(scene, 2000, 0), near_only);
  load_street_training(scene, street_config(scene, 2000, 2000), both);
  const size_t lidar = plain.init_points.size() / 3;
  const size_t n_near = near_only.init_points.size() / 3 - lidar;
  const size_t n_far = both.init_points.size() / 3 - lidar - n_near;
  INFO(lidar << " LiDAR points, " << n_near << " near and " << n_far << " far ones kept of 6000 "
             "drawn each");
  // Three cameras looking forward see a part of the sphere, and never more than was drawn.
  CHECK(n_near > 100);
  CHECK(n_near < 6000);
  CHECK(n_far > 100);
  CHECK(n_far < 6000);
  REQUIRE(both.init_colors.size() == both.init_points.size());
  // The LiDAR points come first, unchanged.
  CHECK(std::equal(plain.init_points.begin(), plain.init_points.end(), both.init_points.begin()));
  const double R = both.scene_extent;
  const auto& c = both.scene_center;
  auto distance = [&](size_t k) {
    const float* p = &both.init_points[3 * k];
    return std::sqrt(std::pow(p[0] - c[0], 2) + std::pow(p[1] - c[1], 2) + std::pow(p[2] - c[2], 2));
  };
  size_t outside_shell = 0, unseen = 0, bad_colour = 0;
  for (size_t k = lidar; k < lidar + n_near + n_far; ++k) {
    const double d = distance(k);
    const bool in_shell = k < lidar + n_near ? d <= R * 1.0001
                                             : d >= R * 0.9999 && d <= 50 * R * 1.0001;
    outside_shell += in_shell ? 0 : 1;
    unseen += seen(both, &both.init_points[3 * k]) ? 0 : 1;
    for (int a = 0; a < 3; ++a) {
      const float col = both.init_colors[3 * k + size_t(a)];
      bad_colour += col >= 0.f && col <= 1.f ? 0 : 1;
    }
  }
  CHECK(outside_shell == 0);
  CHECK(unseen == 0);
  CHECK(bad_colour == 0);
  // Deterministic: the same config draws the same points.
  Dataset again;
  load_street_training(scene, street_config(scene, 2000, 2000), again);
  CHECK(again.init_points == both.init_points);
  CHECK(both.init_source.find("near and") != std::string::npos);
}

TEST_CASE("street data: random points are refused outside a street background",
          "[street][data][config]") {
  const std::string yaml = R"(scene: omnire
data:
  format: street
nodes:
  background:
    kind: background
  rigid:
    kind: rigid
    far_random_points: 10
)";
  CHECK_THROWS_WITH(parse_config(yaml, "bad random points"),
                    Catch::Contains("nodes.rigid.far_random_points"));
}

TEST_CASE("street data: the LiDAR depth cache gives the projected image at every factor",
          "[street]") {
  TempDir dir("street_lidar");
  const std::string scene = gs::test::make_test_street(dir, 2);
  Dataset data;
  const StreetTraining st = load_street_training(scene, street_config(scene, 0, 0), data);
  REQUIRE(!st.scene.lidar.empty());
  LidarDepthCache cache;
  std::vector<float> out;
  for (int pass = 0; pass < 2; ++pass)  // the first pass projects, the second reads the cache
    for (size_t view : {size_t(0), size_t(4)})
      for (int factor : {1, 2, 4}) {
        const int frame = st.train_frame[view];
        const Camera cam = factor > 1 ? downscaled_camera(data.train[view].camera, factor)
                                      : data.train[view].camera;
        REQUIRE(cache.dense(st, view, frame, factor, cam, out));
        const std::vector<float>& p = st.scene.lidar[size_t(frame)].points;
        const std::vector<float> fresh = lidar_depth_image(cam, p.data(), p.size() / 3);
        INFO("pass " << pass << ", view " << view << ", factor " << factor);
        CHECK(out == fresh);
        size_t returns = 0;
        for (float d : fresh) returns += d > 0;
        CHECK(returns > 0);
      }
  CHECK(cache.views() == 6);
  CHECK(cache.host_bytes() > 0);
  // A frame without a sweep: false, `out` untouched.
  out.assign(3, 7.f);
  CHECK_FALSE(cache.dense(st, 0, int(st.scene.lidar.size()), 1, data.train[0].camera, out));
  CHECK(out == std::vector<float>(3, 7.f));
}
