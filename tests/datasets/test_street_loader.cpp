// The street-scene loader (drivestudio's processed Waymo layout) on a tiny scene written by the
// test: 4 frames, 2 cameras, 16×12 images, a few LiDAR points per frame and 3 instances. The
// vehicle drives 2 m per frame along its heading, far from the log's origin and turned, so the
// re-centring on the first selected frame shows; then one clear error per malformed input.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/street_scene.h"
#include "tests/datasets/dataset_fixtures.h"

using namespace gs;
using namespace gs::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

using Mat4 = std::array<double, 16>;
using Vec3 = std::array<double, 3>;

constexpr int kFrames = 4, kWidth = 16, kHeight = 12;
constexpr double kYaw = 0.3;                             // the vehicle's heading in the log
const Vec3 kStart{1000, -500, 30};                       // its position at frame 0, in the log
const Vec3 kFrontCam{1.5, 0, 2}, kLeftCam{1.4, 0.3, 2};  // camera positions on the vehicle

Mat4 pose(double yaw, const Vec3& t) {
  const double c = std::cos(yaw), s = std::sin(yaw);
  return {c, -s, 0, t[0], s, c, 0, t[1], 0, 0, 1, t[2], 0, 0, 0, 1};
}

Mat4 mul(const Mat4& a, const Mat4& b) {
  Mat4 o{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      for (int k = 0; k < 4; ++k) o[r * 4 + c] += a[r * 4 + k] * b[k * 4 + c];
  return o;
}

Vec3 map_point(const Mat4& m, const Vec3& p) {
  return {m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3],
          m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
          m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11]};
}

// The vehicle at frame t in the log: 2 m per frame along its heading.
Mat4 ego_in_log(int t) {
  return pose(kYaw,
              {kStart[0] + 2 * t * std::cos(kYaw), kStart[1] + 2 * t * std::sin(kYaw), kStart[2]});
}
// …and in our world when frame `start` is the first selected one: straight ahead along x.
Mat4 ego_in_world(int t, int start = 0) {
  return pose(0, {2.0 * (t - start), 0, 0});
}

std::string matrix_text(const Mat4& m) {
  std::string s;
  char buf[40];
  for (int i = 0; i < 16; ++i) {
    std::snprintf(buf, sizeof buf, "%.17g%s", m[i], i % 4 == 3 ? "\n" : " ");
    s += buf;
  }
  return s;
}

json matrix_json(const Mat4& m) {
  json rows = json::array();
  for (int r = 0; r < 4; ++r) rows.push_back({m[r * 4], m[r * 4 + 1], m[r * 4 + 2], m[r * 4 + 3]});
  return rows;
}

std::string stem(int t, int cam) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03d_%d", t, cam);
  return buf;
}

void write_floats(const std::string& path, const std::vector<float>& v) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
}

// LiDAR points of frame t in its vehicle frame (14 columns, origin at the roof).
Vec3 lidar_point(int t, int i) {
  return {5.0 + i, -1.0 + t, 0.5 * i};
}
const Vec3 kLidarOrigin{0, 0, 2};
constexpr int kLidarPoints = 3;

// Instances: 0 a vehicle 10 m ahead and 3 m right of the ego in every frame; 1 a pedestrian in
// frames 2–3; 2 a cyclist in frame 0 only.
Vec3 vehicle_offset() {
  return {10, -3, 0};
}

void write_instances(const TempDir& dir) {
  json info, frames;
  auto annotate = [&](int id, const char* cls, std::vector<int> at, const Vec3& offset) {
    json fa = {{"frame_idx", at}, {"obj_to_world", json::array()}, {"box_size", json::array()}};
    for (int t : at) {
      fa["obj_to_world"].push_back(matrix_json(mul(ego_in_log(t), pose(0.1, offset))));
      fa["box_size"].push_back({4.0 + 0.1 * t, 2.0, 1.5});
      frames[std::to_string(t)].push_back(id);
    }
    info[std::to_string(id)] = {
        {"id", "waymo-" + std::to_string(id)}, {"class_name", cls}, {"frame_annotations", fa}};
  };
  for (int t = 0; t < kFrames; ++t) frames[std::to_string(t)] = json::array();
  annotate(0, "Vehicle", {0, 1, 2, 3}, vehicle_offset());
  annotate(1, "Pedestrian", {2, 3}, {6, 2, 0});
  annotate(2, "Cyclist", {0}, {8, 4, 0});
  write_text(dir / "instances/instances_info.json", info.dump(2));
  write_text(dir / "instances/frame_instances.json", frames.dump(2));
}

// Camera 0 looks straight ahead (Waymo camera axes = vehicle axes), camera 1 45° to the left.
Mat4 camera_to_vehicle(int cam) {
  return cam == 0 ? pose(0, kFrontCam) : pose(0.25 * 3.14159265358979, kLeftCam);
}

void write_scene(const TempDir& dir, const std::string& distortion = "0 0 0 0 0") {
  for (int t = 0; t < kFrames; ++t) {
    write_text(dir / ("ego_pose/" + stem(t, 0).substr(0, 3) + ".txt"), matrix_text(ego_in_log(t)));
    std::vector<float> rows;
    for (int i = 0; i < kLidarPoints; ++i) {
      const Vec3 p = lidar_point(t, i);
      const float row[14] = {float(kLidarOrigin[0]),
                             float(kLidarOrigin[1]),
                             float(kLidarOrigin[2]),
                             float(p[0]),
                             float(p[1]),
                             float(p[2]),
                             0,
                             0,
                             0,
                             0,
                             0,
                             0.5f,
                             0,
                             0};
      rows.insert(rows.end(), row, row + 14);
    }
    write_floats(dir / ("lidar/" + stem(t, 0).substr(0, 3) + ".bin"), rows);
    for (int cam = 0; cam < 2; ++cam)
      write_solid(dir / ("images/" + stem(t, cam) + ".png"), kWidth, kHeight, uint8_t(40 * t),
                  uint8_t(100 * cam), 7);
  }
  for (int cam = 0; cam < 2; ++cam) {
    write_text(dir / ("extrinsics/" + std::to_string(cam) + ".txt"),
               matrix_text(camera_to_vehicle(cam)));
    // One number per line, as np.savetxt writes a 1-D array.
    write_text(dir / ("intrinsics/" + std::to_string(cam) + ".txt"),
               "10\n10\n8\n6\n" + distortion + "\n");
  }
  write_instances(dir);
}

// A grey mask whose top `rows` rows are `on` and the rest `off`.
void write_mask(const std::string& path, int w, int h, int rows, uint8_t on, uint8_t off) {
  std::vector<uint8_t> px(size_t(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) px[size_t(y) * w + x] = y < rows ? on : off;
  write_image(path, w, h, 1, px);
}

StreetOptions two_cameras() {
  StreetOptions o;
  o.cameras = {0, 1};
  o.test_every = 0;
  return o;
}

template <class Error, class F>
std::string error_of(F fn) {
  try {
    fn();
  } catch (const Error& e) {
    CHECK_FALSE(e.hint().empty());
    return e.what();
  }
  FAIL("expected the error to be thrown");
  return "";
}

// Edits instances_info.json with `edit` and returns the loader's IoError.
template <class F>
std::string instances_error(F edit) {
  TempDir dir("street_json");
  write_scene(dir);
  json info = json::parse(read_text(dir / "instances/instances_info.json"));
  edit(info);
  write_text(dir / "instances/instances_info.json", info.dump());
  return error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); });
}

}  // namespace

TEST_CASE("street loader: views in OpenCV axes, world = the first selected vehicle frame",
          "[street]") {
  TempDir dir("street_axes");
  write_scene(dir);
  CHECK(count_street_frames(dir.str()) == kFrames);
  const StreetScene s = load_street_scene(dir.str(), two_cameras());
  REQUIRE(s.frames == kFrames);
  REQUIRE(s.train.size() == kFrames * 2);
  CHECK(s.test.empty());
  REQUIRE(s.ego_to_world.size() == kFrames);
  for (int t = 0; t < kFrames; ++t)
    for (int i = 0; i < 16; ++i)
      CHECK(s.ego_to_world[t][i] == Approx(ego_in_world(t)[i]).margin(1e-5));

  for (const StreetView& v : s.train) {
    const Camera& c = v.view.camera;
    CHECK(v.view.name == stem(v.frame, v.camera_id));
    CHECK(c.name == v.view.name);
    CHECK(v.view.time == Approx(v.frame / 3.0));
    CHECK(c.width == kWidth);
    CHECK(c.fx == 10.f);
    CHECK(c.cx == 8.f);
    // 10 m along the camera's optical axis (Waymo camera x), in the vehicle frame of its frame.
    const Mat4 cam_in_world = mul(ego_in_world(v.frame), camera_to_vehicle(v.camera_id));
    const auto ahead = project(c, map_point(cam_in_world, {10, 0, 0}));
    CHECK(ahead[0] == Approx(8).margin(1e-3));
    CHECK(ahead[1] == Approx(6).margin(1e-3));
    CHECK(ahead[2] == Approx(10).margin(1e-3));
    const auto left = project(c, map_point(cam_in_world, {10, 3, 0}));
    CHECK(left[0] < 8 - 1);
    const auto up = project(c, map_point(cam_in_world, {10, 0, 3}));
    CHECK(up[1] < 6 - 1);
  }
  // A point ahead of the vehicle is right of the front-left camera's optical axis.
  const StreetView& front_left = s.train[1];
  REQUIRE(front_left.camera_id == 1);
  CHECK(project(front_left.view.camera, {20, 0, 2})[0] > 8);
}

TEST_CASE("street loader: a later start frame re-centres the world, poses and boxes on it",
          "[street]") {
  TempDir dir("street_start");
  write_scene(dir);
  StreetOptions o = two_cameras();
  o.start_frame = 1;
  o.end_frame = 3;
  const StreetScene s = load_street_scene(dir.str(), o);
  REQUIRE(s.start_frame == 1);
  REQUIRE(s.frames == 3);
  for (int i = 0; i < 16; ++i)
    CHECK(s.ego_to_world[0][i] == Approx(ego_in_world(0)[i]).margin(1e-5));
  CHECK(s.ego_to_world[2][3] == Approx(4).margin(1e-4));
  CHECK(s.train[0].view.name == "001_0");
  const auto centre = camera_center(s.train[0].view.camera);
  CHECK(centre[0] == Approx(kFrontCam[0]).margin(1e-4));
  CHECK(centre[2] == Approx(kFrontCam[2]).margin(1e-4));

  // The cyclist (frame 0 only) is outside the range and dropped.
  REQUIRE(s.instances.size() == 2);
  const StreetInstance& car = s.instances[0];
  CHECK(car.id == 0);
  CHECK(car.cls == InstanceClass::vehicle);
  CHECK(std::string(to_string(car.cls)) == "Vehicle");
  for (int f = 0; f < 3; ++f) {
    const Mat4 expected = mul(ego_in_world(f + 1, 1), pose(0.1, vehicle_offset()));
    for (int i = 0; i < 16; ++i) CHECK(car.box_to_world[f][i] == Approx(expected[i]).margin(1e-4));
  }
  CHECK(car.box_size[0] == Approx(4.3));  // the largest length over frames 1–3
  const StreetInstance& walker = s.instances[1];
  CHECK(walker.cls == InstanceClass::pedestrian);
  CHECK(walker.present == std::vector<uint8_t>{0, 1, 1});
}

TEST_CASE("street loader: LiDAR sweeps in world, bounds and scene radius", "[street]") {
  TempDir dir("street_lidar");
  write_scene(dir);
  const StreetScene s = load_street_scene(dir.str(), two_cameras());
  REQUIRE(s.lidar.size() == kFrames);
  std::array<double, 3> lo{1e9, 1e9, 1e9}, hi{-1e9, -1e9, -1e9};
  for (int t = 0; t < kFrames; ++t) {
    REQUIRE(s.lidar[t].points.size() == 3 * kLidarPoints);
    for (int i = 0; i < kLidarPoints; ++i) {
      const Vec3 p = map_point(ego_in_world(t), lidar_point(t, i));
      const Vec3 o = map_point(ego_in_world(t), kLidarOrigin);
      for (int k = 0; k < 3; ++k) {
        CHECK(s.lidar[t].points[3 * i + k] == Approx(p[k]).margin(1e-4));
        CHECK(s.lidar[t].origins[3 * i + k] == Approx(o[k]).margin(1e-4));
        lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
      }
    }
  }
  double side = 0;
  for (int k = 0; k < 3; ++k) {
    CHECK(s.aabb_min[k] == Approx(lo[k]).margin(1e-4));
    CHECK(s.aabb_max[k] == Approx(hi[k]).margin(1e-4));
    side = std::max(side, hi[k] - lo[k]);
  }
  CHECK(s.scene_radius == Approx(1.1 * side / 2));

  StreetOptions sparse = two_cameras();
  sparse.max_lidar_points = 2;  // every 2nd of 3 points: rows 0 and 2
  const StreetScene few = load_street_scene(dir.str(), sparse);
  REQUIRE(few.lidar[1].points.size() == 6);
  CHECK(few.lidar[1].points[3] == Approx(map_point(ego_in_world(1), lidar_point(1, 2))[0]));

  StreetOptions no_lidar = two_cameras();
  no_lidar.load_lidar = false;
  const StreetScene cams = load_street_scene(dir.str(), no_lidar);
  CHECK(cams.lidar.empty());
  // From the camera centres: x spans 6 m of driving (+0.1 between the two cameras).
  CHECK(cams.scene_radius == Approx(1.1 * 6.1 / 2).margin(1e-3));
}

TEST_CASE("street loader: every N-th frame of the range is a test frame, all its cameras",
          "[street]") {
  TempDir dir("street_split");
  write_scene(dir);
  StreetOptions o = two_cameras();
  o.test_every = 2;
  const StreetScene s = load_street_scene(dir.str(), o);
  REQUIRE(s.test.size() == 2);
  CHECK(s.test[0].view.name == "002_0");
  CHECK(s.test[1].view.name == "002_1");
  CHECK(s.test[0].view.time == Approx(2 / 3.0));
  CHECK(s.train.size() == 6);
  CHECK(s.train_images.size() == 6);
  CHECK(s.test_images.size() == 2);
  CHECK(s.test_images[0].rgb[0] == 80);  // frame 2's colour
}

TEST_CASE("street loader: JPEG images (Waymo's) and flat 16-number box poses", "[street]") {
  TempDir dir("street_jpeg");
  write_scene(dir);
  for (int t = 0; t < kFrames; ++t) {
    fs::remove(dir / ("images/" + stem(t, 1) + ".png"));
    write_solid(dir / ("images/" + stem(t, 1) + ".jpg"), kWidth, kHeight, 0, 200, 0);
  }
  // drivestudio reshapes obj_to_world to 4×4, so 16 numbers in a row are accepted too.
  json info = json::parse(read_text(dir / "instances/instances_info.json"));
  for (json& m : info["0"]["frame_annotations"]["obj_to_world"]) {
    json flat = json::array();
    for (const json& row : m)
      for (const json& v : row) flat.push_back(v);
    m = flat;
  }
  write_text(dir / "instances/instances_info.json", info.dump());

  const StreetScene s = load_street_scene(dir.str(), two_cameras());
  const StreetView& view = s.train[1];
  REQUIRE(view.camera_id == 1);
  CHECK(fs::path(view.view.image_path).filename() == "000_1.jpg");
  CHECK(s.train_images[1].rgb[1] == Approx(200).margin(3));  // JPEG rounding
  const Mat4 expected = mul(ego_in_world(2), pose(0.1, vehicle_offset()));
  for (int i = 0; i < 16; ++i)
    CHECK(s.instances[0].box_to_world[2][i] == Approx(expected[i]).margin(1e-4));
}

TEST_CASE("street loader: downscale, images and masks at the view resolution", "[street]") {
  TempDir dir("street_scale");
  write_scene(dir);
  write_mask(dir / "sky_masks/000_0.png", kWidth, kHeight, 6, 200, 50);
  write_mask(dir / "dynamic_masks/human/001_1.png", kWidth / 2, kHeight / 2, 1, 255, 0);
  StreetOptions o = two_cameras();
  o.downscale = 2;
  const StreetScene s = load_street_scene(dir.str(), o);
  const Camera& c = s.train[0].view.camera;
  CHECK(c.width == 8);
  CHECK(c.height == 6);
  CHECK(c.fx == 5.f);
  CHECK(c.cx == 4.f);
  CHECK(c.cy == 3.f);
  REQUIRE(s.train_images.size() == 8);
  CHECK(s.train_images[0].width == 8);
  CHECK(s.train_images[3].rgb[1] == 100);  // frame 1, camera 1

  REQUIRE(s.train_masks.size() == 8);
  const HostMask& sky = s.train_masks[0].sky;
  REQUIRE_FALSE(sky.empty());
  CHECK(sky.width == 8);
  CHECK(sky.height == 6);
  CHECK(sky.values[0] == 255);
  CHECK(sky.values[2 * 8] == 255);  // row 2 of 6 ← rows 4–5 of 12: on
  CHECK(sky.values[3 * 8] == 0);    // row 3 ← rows 6–7: off (grey 50 is below 128)
  CHECK(s.train_masks[0].dynamic_all.empty());
  const HostMask& human = s.train_masks[3].dynamic_human;  // given at the view size already
  REQUIRE_FALSE(human.empty());
  CHECK(human.values[0] == 255);
  CHECK(human.values[8] == 0);

  StreetOptions no_images = two_cameras();
  no_images.load_images = false;
  const StreetScene plan = load_street_scene(dir.str(), no_images);
  CHECK(plan.train.size() == 8);
  CHECK(plan.train_images.empty());
  CHECK(plan.train_masks.empty());
}

TEST_CASE("street loader: distorted cameras keep their intrinsics and binary masks", "[street]") {
  TempDir dir("street_distort");
  write_scene(dir, "0.05 -0.01 0.001 0 0");
  write_mask(dir / "sky_masks/000_0.png", kWidth, kHeight, 5, 255, 0);
  const StreetScene s = load_street_scene(dir.str(), two_cameras());
  CHECK(s.train[0].view.camera.fx == 10.f);
  const HostMask& sky = s.train_masks[0].sky;
  REQUIRE(sky.values.size() == size_t(kWidth) * kHeight);
  for (uint8_t v : sky.values) CHECK((v == 0 || v == 255));
  CHECK(sky.values[0] == 255);
  CHECK(sky.values.back() == 0);
}

TEST_CASE("street loader: missing files name the path", "[street]") {
  CHECK_THAT(error_of<IoError>([] { load_street_scene("/nonexistent/street_scene"); }),
             Contains("/nonexistent/street_scene") && Contains("not found"));

  TempDir dir("street_missing");
  write_scene(dir);
  fs::remove(dir / "images/002_1.png");
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("images/002_1.jpg") && Contains("not found"));
  StreetOptions front = two_cameras();
  front.cameras = {0};
  CHECK_NOTHROW(load_street_scene(dir.str(), front));  // camera 1 is not selected

  fs::remove(dir / "extrinsics/0.txt");
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), front); }),
             Contains("extrinsics/0.txt"));

  TempDir no_poses("street_no_poses");
  write_scene(no_poses);
  fs::remove_all(no_poses / "ego_pose");
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(no_poses.str(), two_cameras()); }),
             Contains("ego_pose"));

  // lidar/ and instances/ are optional as folders, not file by file.
  TempDir partial("street_partial");
  write_scene(partial);
  fs::remove(partial / "lidar/001.bin");
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(partial.str(), two_cameras()); }),
             Contains("lidar/001.bin") && Contains("not found"));
  fs::remove(partial / "instances/frame_instances.json");
  StreetOptions no_lidar = two_cameras();
  no_lidar.load_lidar = false;
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(partial.str(), no_lidar); }),
             Contains("instances/frame_instances.json"));
  fs::remove_all(partial / "lidar");
  fs::remove_all(partial / "instances");
  const StreetScene bare = load_street_scene(partial.str(), two_cameras());
  CHECK(bare.lidar.empty());
  CHECK(bare.instances.empty());
  CHECK(bare.train.size() == 8);
}

TEST_CASE("street loader: malformed text and binary files", "[street]") {
  TempDir dir("street_bad_files");
  write_scene(dir);
  write_floats(dir / "lidar/002.bin", std::vector<float>(25, 1.f));  // 100 bytes
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("lidar/002.bin") &&
                 Contains("truncated: 100 bytes is not a multiple of 56 (14 float32 per point)"));

  write_scene(dir);
  write_text(dir / "intrinsics/1.txt", "10 10 8 6 0 0 0 0");
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("intrinsics/1.txt") && Contains("expected 9 numbers") && Contains("found 8"));
  write_text(dir / "intrinsics/1.txt", "10 10 8 six 0 0 0 0 0");
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("intrinsics/1.txt") && Contains("'six'"));

  write_scene(dir);
  Mat4 scaled = ego_in_log(3);
  scaled[0] *= 2;
  write_text(dir / "ego_pose/003.txt", matrix_text(scaled));
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("ego_pose/003.txt") && Contains("not a rigid transform"));

  write_scene(dir);
  write_mask(dir / "sky_masks/001_0.png", 10, 10, 5, 255, 0);
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("sky_masks/001_0.png") && Contains("10x10") && Contains("16x12"));
}

TEST_CASE("street loader: instance files name the file and the JSON path", "[street]") {
  CHECK_THAT(instances_error([](json& j) {
               j["1"]["frame_annotations"]["obj_to_world"][1] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
             }),
             Contains("instances_info.json: \"1\".frame_annotations.obj_to_world[1]: expected a "
                      "4×4 array"));
  CHECK_THAT(instances_error([](json& j) { j["0"]["frame_annotations"]["box_size"][2] = "big"; }),
             Contains("instances_info.json: \"0\".frame_annotations.box_size[2]"));
  CHECK_THAT(instances_error([](json& j) { j["0"]["frame_annotations"].erase("frame_idx"); }),
             Contains("\"0\".frame_annotations.frame_idx: missing"));
  CHECK_THAT(instances_error([](json& j) { j["2"]["class_name"] = "Truck"; }),
             Contains("instances_info.json: \"2\".class_name: unknown class 'Truck'") &&
                 Contains("Vehicle, Pedestrian and Cyclist"));
  CHECK_THAT(instances_error([](json& j) { j["2"]["class_name"] = 3; }),
             Contains("\"2\".class_name: expected a string"));
  CHECK_THAT(instances_error([](json& j) { j["2"]["frame_annotations"]["frame_idx"][0] = 7; }),
             Contains("\"2\".frame_annotations.frame_idx[0]: frame 7 is outside the scene") &&
                 Contains("4 frames: 0..3"));

  TempDir dir("street_frames_json");
  write_scene(dir);
  json frames = json::parse(read_text(dir / "instances/frame_instances.json"));
  frames["1"].push_back(9);
  write_text(dir / "instances/frame_instances.json", frames.dump());
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("frame_instances.json: \"1\"[1]: instance 9 is not in") &&
                 Contains("instances_info.json"));
  frames["1"] = {0, 1};  // the pedestrian is annotated in frames 2–3 only
  write_text(dir / "instances/frame_instances.json", frames.dump());
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("instance 1 is listed in frame 1"));
  frames["1"] = json::array();
  write_text(dir / "instances/frame_instances.json", frames.dump());
  CHECK_THAT(error_of<IoError>([&] { load_street_scene(dir.str(), two_cameras()); }),
             Contains("frame_instances.json: \"1\": does not list instance 0"));
}

TEST_CASE("street loader: options out of range are config errors naming the option", "[street]") {
  TempDir dir("street_options");
  write_scene(dir);
  StreetOptions o = two_cameras();
  o.end_frame = 4;
  CHECK_THAT(error_of<ConfigError>([&] { load_street_scene(dir.str(), o); }),
             Contains("data.end_frame") && Contains("the scene has 4 frames: 0..3"));
  o.end_frame = 1;
  o.start_frame = 2;
  CHECK_THAT(error_of<ConfigError>([&] { load_street_scene(dir.str(), o); }),
             Contains("data.start_frame (2) is after data.end_frame (1)"));
  o = two_cameras();
  o.cameras.clear();
  CHECK_THAT(error_of<ConfigError>([&] { load_street_scene(dir.str(), o); }),
             Contains("data.cameras"));
  o = two_cameras();
  o.downscale = 0;
  CHECK_THAT(error_of<ConfigError>([&] { load_street_scene(dir.str(), o); }),
             Contains("data.downscale"));
}
