// instant-ngp transforms.json: dataset-wide and per-frame intrinsics, OpenCV distortion removed
// at load, hold-out split, and clear errors for what ngp files get wrong.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/dataset.h"
#include "datasets/host_image_reader.h"
#include "datasets/undistort.h"
#include "tests/datasets/dataset_fixtures.h"

using namespace gs;
using namespace gs::test;
using nlohmann::json;

namespace {

json identity_at(double x, double y, double z) {
  return json::array({json::array({1, 0, 0, x}), json::array({0, 1, 0, y}),
                      json::array({0, 0, 1, z}), json::array({0, 0, 0, 1})});
}

// 9 frames, 16×12 JPEG/PNG images, intrinsics at the top level, frame 1 overriding fl_x.
json write_ngp(const TempDir& dir) {
  json j;
  j["w"] = 16;
  j["h"] = 12;
  j["fl_x"] = 20.0;
  j["fl_y"] = 22.0;
  j["cx"] = 7.5;
  j["cy"] = 6.5;
  j["aabb_scale"] = 4;
  j["frames"] = json::array();
  for (int i = 0; i < 9; ++i) {
    json f;
    const std::string name = "images/" + std::to_string(i) + (i % 2 ? ".jpg" : ".png");
    f["file_path"] = name;
    f["transform_matrix"] = identity_at(0.1 * i, 0, 4);
    f["time"] = i / 8.0;
    if (i == 1) f["fl_x"] = 10.0;
    j["frames"].push_back(f);
    write_image(dir / name, 16, 12, 3, blob_image(16, 12, {{4.0 + i, 6.0}}, 1.5));
  }
  write_text(dir / "transforms.json", j.dump(1));
  return j;
}

template <class F>
std::string io_error_of(F fn) {
  try {
    fn();
  } catch (const IoError& e) {
    CHECK_FALSE(e.hint().empty());
    return e.what();
  }
  FAIL("expected gs::IoError");
  return "";
}

}  // namespace

TEST_CASE("ngp: intrinsics, per-frame overrides, poses and split", "[data]") {
  TempDir dir("ngp");
  write_ngp(dir);
  DatasetOptions o;
  o.init_random_points = 50;
  const Dataset d = load_dataset(dir.str(), o);
  CHECK(d.format == "ngp");
  REQUIRE(d.test.size() == 2);  // frames 0 and 8
  REQUIRE(d.train.size() == 7);
  CHECK(d.test[1].name == "images/8.png");
  const Camera& c1 = d.train[0].camera;  // frame 1
  CHECK(c1.fx == Approx(10));
  CHECK(c1.fy == Approx(22));
  const Camera& c2 = d.train[1].camera;  // frame 2
  CHECK(c2.fx == Approx(20));
  CHECK(c2.cx == Approx(7.5));
  CHECK(c2.cy == Approx(6.5));
  CHECK(c2.width == 16);
  CHECK(c2.height == 12);
  // Identity rotation in OpenGL axes looks down −z: a point below the camera centre in world y
  // appears lower in the image (larger v).
  const auto p = project(c2, {0.2, -0.4, 0});
  CHECK(p[2] == Approx(4));
  CHECK(p[0] == Approx(7.5).margin(1e-4));
  CHECK(p[1] == Approx(6.5 + 22 * 0.1).margin(1e-4));
  CHECK(d.has_time);
  CHECK(d.train[1].time == Approx(0.25));
  // Random points fill the cube the cameras span around their centre.
  REQUIRE(d.init_points.size() == 150);
  for (size_t i = 0; i < 50; ++i)
    CHECK(std::abs(d.init_points[i * 3 + 2] - d.scene_center[2]) <= d.scene_extent + 1e-5f);

  // The JSON file itself is accepted as the path.
  CHECK(load_dataset(dir / "transforms.json", o).train.size() == 7);
}

TEST_CASE("ngp: OpenCV distortion is removed at load", "[data]") {
  TempDir dir("ngp_dist");
  json j = write_ngp(dir);
  j["k1"] = -0.3;
  j["p1"] = 0.01;
  write_text(dir / "transforms.json", j.dump());
  DatasetOptions o;
  o.test_every = 0;
  const Dataset d = load_dataset(dir.str(), o);
  HostImage expect = decode_host_image(dir / "images/2.png", {1, 1, 1});
  const HostImage raw = expect;
  undistort_image(expect, 20, 22, 7.5, 6.5, LensDistortion{{-0.3, 0, 0.01, 0, 0}});
  CHECK(d.train_images[2].rgb == expect.rgb);
  CHECK(d.train_images[2].rgb != raw.rgb);
}

TEST_CASE("ngp: malformed inputs give an IoError naming file and field", "[data]") {
  TempDir dir("ngp_bad");
  const json good = write_ngp(dir);
  const std::string file = dir / "transforms.json";
  auto msg_with = [&](const json& j) {
    write_text(file, j.dump());
    return io_error_of([&] { load_dataset(dir.str()); });
  };
  json j = good;
  j["camera_model"] = "OPENCV_FISHEYE";
  CHECK_THAT(msg_with(j),
             Catch::Contains("transforms.json: camera_model: unsupported camera model"));
  j = good;
  j.erase("fl_x");
  CHECK_THAT(msg_with(j), Catch::Contains("transforms.json: frames[0].fl_x: no focal length"));
  j = good;
  j["frames"][3]["cx"] = "middle";
  CHECK_THAT(msg_with(j), Catch::Contains("transforms.json: frames[3].cx: expected a number"));
  j = good;
  j["frames"][4]["file_path"] = "images/missing.png";
  CHECK_THAT(msg_with(j), Catch::Contains("frames[4].file_path: image not found"));
  j = good;
  j["w"] = 20;  // the images are 16 wide
  const std::string m = msg_with(j);
  CHECK_THAT(m, Catch::Contains("image is 16x12 but"));
  CHECK_THAT(m, Catch::Contains("transforms.json (w, h) says 20x12"));
}
