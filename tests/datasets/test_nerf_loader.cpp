// NeRF-synthetic and D-NeRF loading on tiny scenes written by the test: camera conversion from
// OpenGL camera→world, alpha compositing, resizing, splits, times, random initial points, and
// a clear error for each malformed input.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/dataset.h"
#include "tests/datasets/dataset_fixtures.h"

using namespace gs;
using namespace gs::test;
using nlohmann::json;

namespace {

// fx = 16 on a 16-pixel-wide image.
const double kAngle16 = 2 * std::atan(0.5);

// Camera→world (OpenGL axes) on a circle of radius 4 around the y axis, looking at the origin.
json orbit_pose(double theta) {
  const double c = std::cos(theta), s = std::sin(theta);
  return json::array({json::array({c, 0, s, 4 * s}), json::array({0, 1, 0, 0}),
                      json::array({-s, 0, c, 4 * c}), json::array({0, 0, 0, 1})});
}

// The RGBA test pattern: three known pixels in the first row, the rest opaque.
std::vector<uint8_t> rgba_pattern(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 4);
  for (int i = 0; i < w * h; ++i) {
    px[i * 4 + 0] = uint8_t(10 * (i % w));
    px[i * 4 + 1] = uint8_t(10 * (i / w));
    px[i * 4 + 2] = 77;
    px[i * 4 + 3] = 255;
  }
  const uint8_t first[3][4] = {{200, 100, 50, 255}, {200, 100, 50, 0}, {200, 100, 50, 128}};
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < 4; ++c) px[k * 4 + c] = first[k][c];
  return px;
}

json write_split(const TempDir& dir, const std::string& split, int n, int w, int h, bool time) {
  json j;
  j["camera_angle_x"] = kAngle16;
  j["frames"] = json::array();
  for (int i = 0; i < n; ++i) {
    json f;
    f["file_path"] = "./" + split + "/r_" + std::to_string(i);
    f["rotation"] = 0.1;
    f["transform_matrix"] = orbit_pose(i * 0.5);
    if (time) f["time"] = n > 1 ? double(i) / (n - 1) : 0.0;
    j["frames"].push_back(f);
    write_image(dir / (split + "/r_" + std::to_string(i) + ".png"), w, h, 4, rgba_pattern(w, h));
  }
  write_text(dir / ("transforms_" + split + ".json"), j.dump(2));
  return j;
}

DatasetOptions no_holdout() {
  DatasetOptions o;
  o.test_every = 0;
  o.init_random_points = 100;
  return o;
}

// Runs `fn` and returns the IoError message it throws (fails the test when it does not).
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

TEST_CASE("nerf: OpenGL camera-to-world becomes an OpenCV world-to-camera", "[data]") {
  TempDir dir("nerf_pose");
  write_split(dir, "train", 4, 16, 16, false);
  const Dataset d = load_dataset(dir.str(), no_holdout());
  CHECK(d.format == "nerf");
  CHECK_FALSE(d.has_time);
  REQUIRE(d.train.size() == 4);
  CHECK(d.test.empty());
  const Camera& c = d.train[0].camera;
  CHECK(c.width == 16);
  CHECK(c.fx == Approx(16).epsilon(1e-5));
  CHECK(c.cx == Approx(8));
  const auto centre = camera_center(c);
  CHECK(centre[2] == Approx(4));
  // x right and y up in the world image as x right and y down in pixels.
  const auto p = project(c, {0.5, 0.25, 0});
  CHECK(p[2] == Approx(4));
  CHECK(p[0] == Approx(10).margin(1e-4));
  CHECK(p[1] == Approx(7).margin(1e-4));
  // Frame 2 sits at angle 1 rad on the circle: the origin projects to the principal point.
  const auto o = project(d.train[2].camera, {0, 0, 0});
  CHECK(o[0] == Approx(8).margin(1e-4));
  CHECK(o[1] == Approx(8).margin(1e-4));
  CHECK(o[2] == Approx(4).margin(1e-5));
  CHECK(d.train[0].name == "train/r_0");
  // Cameras on a circle of radius 4: extent around their mean is ×1.1 the largest distance.
  CHECK(d.scene_extent > 0);
  CHECK(d.init_source.find("random") != std::string::npos);
}

TEST_CASE("nerf: alpha is composited on the configured background", "[data]") {
  TempDir dir("nerf_alpha");
  write_split(dir, "train", 1, 16, 16, false);
  for (float bg : {1.f, 0.f}) {
    DatasetOptions o = no_holdout();
    o.background = {bg, bg, bg};
    const Dataset d = load_dataset(dir.str(), o);
    REQUIRE(d.train_images.size() == 1);
    const HostImage& im = d.train_images[0];
    REQUIRE(im.width == 16);
    REQUIRE(im.rgb.size() == 16 * 16 * 3);
    const uint8_t b = bg > 0 ? 255 : 0;
    CHECK(im.rgb[0] == 200);
    CHECK(im.rgb[1] == 100);
    CHECK(im.rgb[2] == 50);
    CHECK(im.rgb[3] == b);  // fully transparent: the background
    CHECK(im.rgb[4] == b);
    const double a = 128 / 255.0;
    CHECK(im.rgb[6] == std::lround(200 * a + b * (1 - a)));
    CHECK(im.rgb[8] == std::lround(50 * a + b * (1 - a)));
  }
}

TEST_CASE("nerf: downscale and resize scale the intrinsics", "[data]") {
  TempDir dir("nerf_scale");
  write_split(dir, "train", 2, 16, 12, false);
  DatasetOptions o = no_holdout();
  o.downscale = 2;
  Dataset d = load_dataset(dir.str(), o);
  const Camera& c = d.train[0].camera;
  CHECK(c.width == 8);
  CHECK(c.height == 6);
  CHECK(c.fx == Approx(8).epsilon(1e-5));
  CHECK(c.fy == Approx(8).epsilon(1e-5));
  CHECK(c.cx == Approx(4));
  CHECK(c.cy == Approx(3));
  CHECK(d.train_images[0].width == 8);
  CHECK(d.train_images[0].height == 6);
  // The projection of a world point scales with the image.
  const auto p = project(c, {0.5, 0.25, 0});
  CHECK(p[0] == Approx(5).margin(1e-4));
  CHECK(p[1] == Approx(2.5).margin(1e-4));

  o.downscale = 1;
  o.width = 32;  // height follows the aspect ratio
  d = load_dataset(dir.str(), o);
  CHECK(d.train[1].camera.width == 32);
  CHECK(d.train[1].camera.height == 24);
  CHECK(d.train[1].camera.fx == Approx(32).epsilon(1e-5));
  CHECK(d.train_images[1].height == 24);
}

TEST_CASE("nerf: test split given, from val, or every Nth view", "[data]") {
  TempDir dir("nerf_split");
  write_split(dir, "train", 10, 8, 8, false);
  DatasetOptions o;
  o.init_random_points = 0;
  Dataset d = load_dataset(dir.str(), o);
  REQUIRE(d.test.size() == 2);  // views 0 and 8 of 10
  CHECK(d.test[0].name == "train/r_0");
  CHECK(d.test[1].name == "train/r_8");
  CHECK(d.train.size() == 8);
  CHECK(d.train[0].name == "train/r_1");
  CHECK(d.test_images.size() == 2);
  CHECK(d.init_points.empty());
  CHECK(d.init_source == "none");

  o.test_every = 3;
  CHECK(load_dataset(dir.str(), o).test.size() == 4);  // 0 3 6 9

  write_split(dir, "val", 2, 8, 8, false);
  d = load_dataset(dir.str(), o);
  CHECK(d.train.size() == 10);
  CHECK(d.test.size() == 2);
  CHECK(d.test[0].name == "val/r_0");

  write_split(dir, "test", 3, 8, 8, false);
  d = load_dataset(dir.str(), o);
  CHECK(d.train.size() == 10);
  CHECK(d.test.size() == 3);
  CHECK(d.test[2].name == "test/r_2");
}

TEST_CASE("dnerf: per-frame time is kept", "[data]") {
  TempDir dir("dnerf");
  write_split(dir, "train", 5, 8, 8, true);
  write_split(dir, "test", 3, 8, 8, true);
  DatasetOptions o = no_holdout();
  const Dataset d = load_dataset(dir.str(), o);
  CHECK(d.format == "dnerf");
  CHECK(d.has_time);
  REQUIRE(d.train.size() == 5);
  CHECK(d.train[0].time == 0.f);
  CHECK(d.train[2].time == Approx(0.5));
  CHECK(d.train[4].time == Approx(1));
  CHECK(d.test[1].time == Approx(0.5));
  // Random initial points for a synthetic object: the ±1.3 cube.
  REQUIRE(d.init_points.size() == 300);
  for (float v : d.init_points) CHECK(std::abs(v) <= 1.3f);
  for (float v : d.init_colors) CHECK((v >= 0 && v <= 1));
  // Reproducible from the seed.
  CHECK(load_dataset(dir.str(), o).init_points == d.init_points);
  o.seed = 7;
  CHECK(load_dataset(dir.str(), o).init_points != d.init_points);

  // Forcing dnerf on a static scene is an error.
  TempDir plain("dnerf_plain");
  write_split(plain, "train", 2, 8, 8, false);
  o.format = "dnerf";
  const std::string msg = io_error_of([&] { load_dataset(plain.str(), o); });
  CHECK_THAT(msg, Catch::Contains("transforms_train.json: frames[0].time"));
}

TEST_CASE("nerf: load_images=false gives cameras without decoding every image", "[data]") {
  TempDir dir("nerf_noimg");
  write_split(dir, "train", 3, 8, 8, false);
  DatasetOptions o = no_holdout();
  o.load_images = false;
  const Dataset d = load_dataset(dir.str(), o);
  CHECK(d.train.size() == 3);
  CHECK(d.train_images.empty());
  CHECK(image_bytes(d) == 0);
  CHECK(d.train[0].camera.width == 8);
}

TEST_CASE("nerf: malformed inputs give an IoError naming file and field", "[data]") {
  TempDir dir("nerf_bad");
  const json good = write_split(dir, "train", 3, 8, 8, false);
  const std::string file = dir / "transforms_train.json";
  const DatasetOptions o = no_holdout();
  auto with = [&](const json& j) { write_text(file, j.dump()); };
  auto msg = [&] { return io_error_of([&] { load_dataset(dir.str(), o); }); };

  SECTION("invalid JSON") {
    write_text(file, "{\n  \"camera_angle_x\": 0.5,\n  \"frames\": [ }\n");
    const std::string m = msg();
    CHECK_THAT(m, Catch::Contains(file));
    CHECK_THAT(m, Catch::Contains("line 3"));
  }
  SECTION("matrix of the wrong shape") {
    json j = good;
    j["frames"][1]["transform_matrix"] =
        json::array({json::array({1, 0, 0}), json::array({0, 1, 0})});
    with(j);
    CHECK_THAT(msg(), Catch::Contains("transforms_train.json: frames[1].transform_matrix: "
                                      "expected 4x4 numbers"));
  }
  SECTION("matrix with a non-number") {
    json j = good;
    j["frames"][2]["transform_matrix"][1][1] = "x";
    with(j);
    CHECK_THAT(msg(), Catch::Contains("frames[2].transform_matrix"));
  }
  SECTION("scaled rotation") {
    json j = good;
    j["frames"][0]["transform_matrix"][0][0] = 2.0;
    with(j);
    CHECK_THAT(msg(),
               Catch::Contains("frames[0].transform_matrix: the 3x3 part is not a rotation"));
  }
  SECTION("missing field of view") {
    json j = good;
    j.erase("camera_angle_x");
    with(j);
    CHECK_THAT(msg(), Catch::Contains("transforms_train.json: camera_angle_x: missing"));
  }
  SECTION("missing file_path") {
    json j = good;
    j["frames"][1].erase("file_path");
    with(j);
    CHECK_THAT(msg(), Catch::Contains("frames[1].file_path: missing"));
  }
  SECTION("no frames") {
    json j = good;
    j["frames"] = json::array();
    with(j);
    CHECK_THAT(msg(), Catch::Contains("frames: no views"));
  }
  SECTION("missing image names the expected path") {
    fs::remove(dir / "train/r_2.png");
    const std::string m = msg();
    CHECK_THAT(m, Catch::Contains("frames[2].file_path: image not found"));
    CHECK_THAT(m, Catch::Contains("train/r_2"));
  }
  SECTION("corrupt image") {
    write_text(dir / "train/r_1.png", "\x89PNG not really an image");
    const std::string m = msg();
    CHECK_THAT(m, Catch::Contains("r_1.png"));
    CHECK_THAT(m, Catch::Contains("cannot decode"));
  }
  SECTION("empty image file") {
    write_text(dir / "train/r_1.png", "");
    CHECK_THAT(msg(), Catch::Contains("r_1.png: the image file is empty"));
  }
  SECTION("inconsistent image sizes name both images") {
    write_image(dir / "train/r_2.png", 9, 8, 4, rgba_pattern(9, 8));
    const std::string m = msg();
    CHECK_THAT(m, Catch::Contains("r_2.png: image is 9x8"));
    CHECK_THAT(m, Catch::Contains("r_0.png"));
    CHECK_THAT(m, Catch::Contains("8x8"));
  }
  SECTION("time on some frames only") {
    json j = good;
    j["frames"][0]["time"] = 0.0;
    j["frames"][2]["time"] = 1.0;
    with(j);
    CHECK_THAT(msg(), Catch::Contains("frames[1].time: missing while other frames have one"));
  }
}

TEST_CASE("datasets: missing path, unknown folder and bad options", "[data]") {
  TempDir dir("nothing");
  CHECK_THAT(io_error_of([&] { load_dataset(dir / "nope"); }),
             Catch::Contains("dataset not found"));
  CHECK_THAT(io_error_of([&] { load_dataset(dir.str()); }), Catch::Contains("no dataset found"));
  DatasetOptions o;
  o.format = "blender";
  CHECK_THROWS_AS(load_dataset(dir.str(), o), ConfigError);
  o.format = "auto";
  o.downscale = 0;
  CHECK_THROWS_AS(load_dataset(dir.str(), o), ConfigError);
}
