// COLMAP models written by the test in both formats: poses and intrinsics, binary and text
// agree exactly, name-sorted hold-out split, images_N/ use, undistortion of radial/OpenCV
// cameras, and clear errors for broken models.
#include <catch2/catch.hpp>
#include <opencv2/calib3d.hpp>

#include "core/errors.h"
#include "datasets/colmap_reader.h"
#include "datasets/dataset.h"
#include "tests/datasets/dataset_fixtures.h"

using namespace gs;
using namespace gs::test;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Rotation by `angle` about the y axis as a COLMAP (w, x, y, z) quaternion.
std::array<double, 4> quat_y(double angle) {
  return {std::cos(angle / 2), 0, std::sin(angle / 2), 0};
}

// 10 images (ids in reverse name order, to check sorting) over two 32×24 cameras, 5 points.
FixtureModel make_model() {
  FixtureModel m;
  m.cameras.push_back({1, 1, "PINHOLE", 32, 24, {30, 31, 16.5, 12}});
  m.cameras.push_back({2, 0, "SIMPLE_PINHOLE", 32, 24, {28, 16, 12}});
  for (int i = 0; i < 10; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img_%02d.png", 9 - i);
    m.images.push_back({i + 1, quat_y(0.1 * i), {0.1 * i, -0.2, 3}, 1 + i % 2, name});
  }
  for (int i = 0; i < 5; ++i)
    m.points.push_back({uint64_t(i + 1), {0.1 * i, -0.3 * i, 0.7}, {uint8_t(50 * i), 20, 255}});
  return m;
}

void write_scene(const TempDir& dir, const FixtureModel& m, bool binary) {
  if (binary)
    write_colmap_binary(dir / "sparse/0", m);
  else
    write_colmap_text(dir / "sparse/0", m);
  for (const auto& im : m.images)  // every fixture camera is 32×24
    write_solid(dir / ("images/" + im.name), 32, 24, 90, 120, 150);
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

TEST_CASE("colmap: poses, intrinsics, points and the every-8th split", "[data]") {
  TempDir dir("colmap");
  const FixtureModel m = make_model();
  write_scene(dir, m, true);
  const Dataset d = load_dataset(dir.str());
  CHECK(d.format == "colmap");
  REQUIRE(d.test.size() == 2);
  CHECK(d.test[0].name == "img_00.png");
  CHECK(d.test[1].name == "img_08.png");
  REQUIRE(d.train.size() == 8);
  CHECK(d.train[0].name == "img_01.png");
  REQUIRE(d.init_points.size() == 15);
  CHECK(d.init_points[3 * 2 + 1] == Approx(-0.6));
  CHECK(d.init_colors[3 * 3] == Approx(150 / 255.0));
  CHECK(d.init_colors[3 * 3 + 2] == Approx(1));
  CHECK_THAT(d.init_source, Catch::Contains("points3D.bin"));
  CHECK(d.train_images[0].rgb[0] == 90);

  // img_01 is image 8 of the model, on camera 1 + 8 % 2 = 1 (PINHOLE).
  const FixtureImage& src = m.images[8];
  REQUIRE(src.name == "img_01.png");
  const Camera& c = d.train[0].camera;
  CHECK(c.fx == Approx(30));
  CHECK(c.fy == Approx(31));
  CHECK(c.cx == Approx(16.5));
  // Project a world point with OpenCV's own pose convention and compare.
  const cv::Vec3d rvec(0, 0.1 * 8, 0), tvec(src.t[0], src.t[1], src.t[2]);
  const cv::Matx33d k(30, 0, 16.5, 0, 31, 12, 0, 0, 1);
  std::vector<cv::Point2d> expect;
  cv::projectPoints(std::vector<cv::Point3d>{{0.3, 0.2, 0.5}}, rvec, tvec, k, cv::noArray(),
                    expect);
  const auto p = project(c, {0.3, 0.2, 0.5});
  CHECK(p[0] == Approx(expect[0].x).margin(1e-4));
  CHECK(p[1] == Approx(expect[0].y).margin(1e-4));
  CHECK(d.train[1].camera.fx == Approx(28));  // img_02: camera 2, SIMPLE_PINHOLE
  CHECK(d.train[1].camera.fy == Approx(28));
}

TEST_CASE("colmap: binary and text models load identically", "[data]") {
  TempDir bin("colmap_bin"), txt("colmap_txt");
  const FixtureModel m = make_model();
  write_scene(bin, m, true);
  write_scene(txt, m, false);
  const ColmapModel mb = read_colmap_model(bin / "sparse/0");
  const ColmapModel mt = read_colmap_model(txt / "sparse/0");
  REQUIRE(mb.images.size() == 10);
  REQUIRE(mt.images.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    CHECK(mb.images[i].name == mt.images[i].name);
    CHECK(mb.images[i].qvec == mt.images[i].qvec);
    CHECK(mb.images[i].tvec == mt.images[i].tvec);
    CHECK(mb.images[i].camera_id == mt.images[i].camera_id);
  }
  REQUIRE(mb.cameras.size() == 2);
  CHECK(mb.cameras.at(1).params == mt.cameras.at(1).params);
  CHECK(mb.cameras.at(2).model == "SIMPLE_PINHOLE");
  CHECK(mt.cameras.at(2).model_id == 0);

  const Dataset a = load_dataset(bin.str()), b = load_dataset(txt.str());
  REQUIRE(a.train.size() == b.train.size());
  for (size_t i = 0; i < a.train.size(); ++i) {
    const Camera &ca = a.train[i].camera, &cb = b.train[i].camera;
    CHECK(a.train[i].name == b.train[i].name);
    CHECK((ca.fx == cb.fx && ca.fy == cb.fy && ca.cx == cb.cx && ca.cy == cb.cy));
    CHECK(std::equal(ca.world_to_camera, ca.world_to_camera + 16, cb.world_to_camera));
  }
  CHECK(a.init_points == b.init_points);
  CHECK(a.init_colors == b.init_colors);
  CHECK(a.scene_extent == b.scene_extent);
}

TEST_CASE("colmap: downscale reads images_N/ when present, else resizes", "[data]") {
  TempDir dir("colmap_ds");
  const FixtureModel m = make_model();
  write_scene(dir, m, false);
  DatasetOptions o;
  o.downscale = 2;
  Dataset d = load_dataset(dir.str(), o);
  CHECK(d.train[0].camera.width == 16);
  CHECK(d.train[0].camera.fx == Approx(15));
  CHECK(d.train[0].camera.cx == Approx(8.25));
  CHECK(d.train_images[0].width == 16);
  CHECK(d.train_images[0].rgb[0] == 90);
  CHECK_THAT(d.train[0].image_path, Catch::Contains("images/img_01.png"));

  for (const auto& im : m.images) write_solid(dir / ("images_2/" + im.name), 16, 12, 10, 20, 30);
  d = load_dataset(dir.str(), o);
  CHECK(d.train_images[0].width == 16);
  CHECK(d.train_images[0].rgb[0] == 10);  // taken from images_2/
  CHECK_THAT(d.train[0].image_path, Catch::Contains("images_2/img_01.png"));
  CHECK(d.train[0].camera.fy == Approx(15.5));

  // A wrong-sized copy in images_2/ is an error naming it.
  write_solid(dir / "images_2/img_03.png", 20, 12, 10, 20, 30);
  const std::string msg = io_error_of([&] { load_dataset(dir.str(), o); });
  CHECK_THAT(msg, Catch::Contains("images_2/img_03.png: image is 20x12"));
}

TEST_CASE("colmap: distorted cameras are undistorted into pinhole cameras", "[data]") {
  struct Case {
    int model_id;
    std::string model;
    std::vector<double> params;
    std::vector<double> dist;  // OpenCV order: k1 k2 p1 p2 k3 k4 k5 k6
  };
  const Case cases[] = {
      {2, "SIMPLE_RADIAL", {50, 32, 24, -0.25}, {-0.25}},
      {3, "RADIAL", {50, 32.5, 23.5, -0.2, 0.05}, {-0.2, 0.05}},
      {4, "OPENCV", {50, 52, 31, 25, -0.2, 0.03, 0.004, -0.003}, {-0.2, 0.03, 0.004, -0.003}},
      {6,
       "FULL_OPENCV",
       {50, 52, 31, 25, -0.2, 0.03, 0.004, -0.003, 0.01, 0.05, 0, 0},
       {-0.2, 0.03, 0.004, -0.003, 0.01, 0.05, 0, 0}},
  };
  // World points at depth 2 in front of an identity-pose camera, spread over the image.
  const std::vector<std::array<double, 3>> world = {
      {0, 0, 2}, {-1.1, -0.75, 2}, {1.1, 0.75, 2}, {-1.1, 0.75, 2}, {0.9, -0.6, 2}};
  for (const Case& cs : cases) {
    DYNAMIC_SECTION(cs.model) {
      TempDir dir("colmap_undist");
      FixtureModel m;
      m.cameras.push_back({1, cs.model_id, cs.model, 64, 48, cs.params});
      m.images.push_back({1, {1, 0, 0, 0}, {0, 0, 0}, 1, "a.png"});
      write_colmap_text(dir / "sparse/0", m);
      const bool one_f = cs.params.size() < 8;
      const double fx = cs.params[0], fy = one_f ? fx : cs.params[1];
      const double cx = cs.params[one_f ? 1 : 2], cy = cs.params[one_f ? 2 : 3];
      std::vector<std::array<double, 2>> blobs;
      for (const auto& p : world) {
        const auto xd = distort(p[0] / p[2], p[1] / p[2], cs.dist);
        blobs.push_back({fx * xd[0] + cx, fy * xd[1] + cy});
      }
      write_image(dir / "images/a.png", 64, 48, 3, blob_image(64, 48, blobs, 1.1));
      DatasetOptions o;
      o.test_every = 0;
      const Dataset d = load_dataset(dir.str(), o);
      const Camera& c = d.train[0].camera;
      CHECK(c.fx == Approx(fx));
      CHECK(c.cy == Approx(cy));
      const HostImage& im = d.train_images[0];
      for (const auto& p : world) {
        const auto uv = project(c, p);
        const auto got = centroid(im.rgb, im.width, im.height, uv[0], uv[1], 5);
        CHECK(got[0] == Approx(uv[0]).margin(0.2));
        CHECK(got[1] == Approx(uv[1]).margin(0.2));
      }
      // And the raw image really was distorted there (the test would be void otherwise).
      const auto far = blobs[1];
      CHECK(std::hypot(far[0] - project(c, world[1])[0], far[1] - project(c, world[1])[1]) > 2);
    }
  }
}

TEST_CASE("colmap: broken models give an IoError naming the file", "[data]") {
  TempDir dir("colmap_bad");
  FixtureModel m = make_model();
  auto msg = [&] { return io_error_of([&] { load_dataset(dir.str()); }); };

  SECTION("unknown model id in cameras.bin") {
    m.cameras[1].model_id = 99;
    write_scene(dir, m, true);
    const std::string s = msg();
    CHECK_THAT(s, Catch::Contains("cameras.bin: camera_id 2: unknown camera model id 99"));
  }
  SECTION("unknown model name in cameras.txt") {
    m.cameras[0].model = "FOO";
    write_scene(dir, m, false);
    CHECK_THAT(msg(), Catch::Contains("cameras.txt:3: camera_id 1: unknown camera model 'FOO'"));
  }
  SECTION("unsupported fisheye model") {
    m.cameras[0] = {1, 5, "OPENCV_FISHEYE", 32, 24, {30, 30, 16, 12, 0.1, 0, 0, 0}};
    write_scene(dir, m, true);
    CHECK_THAT(msg(), Catch::Contains("camera_id 1 uses camera model OPENCV_FISHEYE (model id 5)"));
  }
  SECTION("wrong parameter count in text") {
    m.cameras[0].params.pop_back();
    write_scene(dir, m, false);
    CHECK_THAT(msg(), Catch::Contains("cameras.txt:3: PINHOLE takes 4 parameters, got 3"));
  }
  SECTION("truncated binary files") {
    write_scene(dir, m, true);
    for (const char* f : {"cameras.bin", "images.bin", "points3D.bin"}) {
      const std::string path = dir / (std::string("sparse/0/") + f);
      const auto size = fs::file_size(path);
      fs::resize_file(path, size - 5);
      const std::string s = msg();
      CHECK_THAT(s, Catch::Contains(std::string(f) + ": truncated at byte"));
      write_scene(dir, m, true);
    }
    // A count that promises more than the file holds.
    fs::resize_file(dir / "sparse/0/images.bin", 8);
    CHECK_THAT(msg(), Catch::Contains("num_reg_images"));
  }
  SECTION("missing image names the expected path") {
    write_scene(dir, m, true);
    fs::remove(dir / "images/img_04.png");
    CHECK_THAT(msg(), Catch::Contains("images/img_04.png: image not found"));
  }
  SECTION("image size differs from its camera") {
    write_scene(dir, m, true);
    write_solid(dir / "images/img_05.png", 30, 24, 1, 2, 3);
    const std::string s = msg();
    CHECK_THAT(s, Catch::Contains("img_05.png: image is 30x24 but"));
    CHECK_THAT(s, Catch::Contains("cameras.bin (camera_id"));
  }
  SECTION("corrupt image") {
    write_scene(dir, m, true);
    write_text(dir / "images/img_02.png", "garbage");
    CHECK_THAT(msg(), Catch::Contains("img_02.png: cannot decode"));
  }
  SECTION("image referring to a missing camera") {
    m.images[3].camera_id = 7;
    write_scene(dir, m, false);
    CHECK_THAT(msg(), Catch::Contains("uses camera_id 7, which is not in"));
  }
  SECTION("no registered images") {
    m.images.clear();
    write_scene(dir, m, true);
    CHECK_THAT(msg(), Catch::Contains("images.bin: no registered images"));
  }
}
