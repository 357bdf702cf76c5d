// Optional loads of the real scenes in ../shared/data (GSTRAIN_SHARED_DATA); each test skips
// with a warning when the folder is absent, as on a fresh clone.
#include <catch2/catch.hpp>

#include "tests/test_support.h"
#include <chrono>
#include <filesystem>

#include "datasets/dataset.h"

using namespace gs;

namespace {

bool shared(const std::string& name, std::string* path) {
  *path = std::string(GSTRAIN_SHARED_DATA) + "/" + name;
  if (std::filesystem::is_directory(*path)) return true;
  GS_SKIP(*path << " is absent");
  return false;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("shared data: nerf_lego_train", "[data][shared]") {
  std::string path;
  if (!shared("nerf_lego_train", &path)) return;
  DatasetOptions o;
  o.downscale = 4;
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(path, o);
  const double s = seconds_since(t0);
  CHECK(d.format == "nerf");
  CHECK(d.train.size() + d.test.size() == 100);
  CHECK(d.test.size() == 13);  // views 0, 8, …, 96
  CHECK(d.train[0].camera.width == 200);
  CHECK(d.train[0].camera.height == 200);
  CHECK(d.train_images[0].width == 200);
  // camera_angle_x 0.6911 rad at 800 px is fx ≈ 1111.1; ÷ 4.
  CHECK(d.train[0].camera.fx == Approx(1111.11 / 4).epsilon(1e-3));
  CHECK(d.init_points.size() == 3 * 100000);
  // The object sits at the origin: every camera looks at it.
  for (const View& v : d.train) {
    const float* m = v.camera.world_to_camera;
    CHECK(m[11] > 0);  // origin in front of the camera (z of the origin = t_z)
  }
  WARN("nerf_lego_train: " << d.train.size() << "+" << d.test.size() << " views 200x200, extent "
                           << d.scene_extent << ", " << s << " s");

  o.downscale = 1;
  o.load_images = false;
  const Dataset full = load_dataset(path, o);
  CHECK(full.train[0].camera.width == 800);
  CHECK(full.train[0].camera.height == 800);
}

TEST_CASE("shared data: colmap_cup", "[data][shared]") {
  std::string path;
  if (!shared("colmap_cup", &path)) return;
  DatasetOptions o;
  o.downscale = 4;
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(path, o);
  const double s = seconds_since(t0);
  CHECK(d.format == "colmap");
  CHECK(d.train.size() + d.test.size() == 77);
  CHECK(d.test.size() == 10);
  CHECK(d.init_points.size() == 3 * 9262);
  CHECK(d.train[0].camera.width == 200);
  CHECK(d.train[0].camera.height == 150);
  CHECK_THAT(d.train[0].image_path, Catch::Contains("images_4"));
  CHECK(d.train_images[0].width == 200);
  // Most sparse points are in front of most cameras.
  const float* m = d.train[0].camera.world_to_camera;
  size_t in_front = 0;
  for (size_t i = 0; i < d.init_points.size(); i += 3)
    in_front += m[8] * d.init_points[i] + m[9] * d.init_points[i + 1] +
                    m[10] * d.init_points[i + 2] + m[11] >
                0;
  CHECK(in_front > d.init_points.size() / 3 * 9 / 10);
  WARN("colmap_cup: " << d.train.size() << "+" << d.test.size() << " views "
                      << d.train[0].camera.width << "x" << d.train[0].camera.height << ", points "
                      << d.init_points.size() / 3 << ", extent " << d.scene_extent << ", " << s
                      << " s");
}

TEST_CASE("shared data: dnerf_lego", "[data][shared]") {
  std::string path;
  if (!shared("dnerf_lego", &path)) return;
  DatasetOptions o;
  o.downscale = 4;
  o.background = {0, 0, 0};
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(path, o);
  const double s = seconds_since(t0);
  CHECK(d.format == "dnerf");
  CHECK(d.has_time);
  CHECK(d.train.size() == 34);
  CHECK(d.test.size() == 20);
  CHECK(d.train[0].camera.width == 200);
  float tmin = 1, tmax = 0;
  for (const View& v : d.train) tmin = std::min(tmin, v.time), tmax = std::max(tmax, v.time);
  CHECK(tmin >= 0);
  CHECK(tmax <= 1);
  CHECK(tmax > tmin);
  // A black background: the corner pixel of a render of an object in the middle is black.
  CHECK(d.train_images[0].rgb[0] == 0);
  WARN("dnerf_lego: " << d.train.size() << "+" << d.test.size() << " views, times " << tmin << ".."
                      << tmax << ", extent " << d.scene_extent << ", " << s << " s");
}
