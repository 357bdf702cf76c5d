// load_street_scene(): the selected frames × cameras of a drivestudio-layout scene as views in
// our world (the first selected vehicle frame) and camera axes (OpenCV), with their images,
// masks, LiDAR sweeps and instance boxes. The per-file parsing is in street_files.cpp,
// street_instances.cpp and street_masks.cpp.
#include "datasets/street_scene.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/errors.h"
#include "core/logging.h"
#include "datasets/host_image_reader.h"
#include "datasets/street_files.h"
#include "datasets/view_images.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

// OpenCV camera axes (x right, y down, z forward) → Waymo camera axes (x forward, y left,
// z up): drivestudio's OPENCV2DATASET. camera(OpenCV)→vehicle = extrinsic · M.
constexpr Matrix4d kOpenCvToWaymoCamera = {0, 0, 1, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 1};
constexpr Matrix4d kIdentity = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

void check_options(const StreetOptions& o) {
  if (o.cameras.empty())
    throw ConfigError("data.cameras: empty", "list drivestudio camera ids, e.g. [0, 1, 2]");
  std::set<int> seen;
  for (int id : o.cameras) {
    if (id < 0)
      throw ConfigError("data.cameras: camera ids are >= 0, got " + std::to_string(id),
                        "Waymo: 0 front, 1 front-left, 2 front-right, 3 side-left, 4 side-right");
    if (!seen.insert(id).second)
      throw ConfigError("data.cameras: camera " + std::to_string(id) + " is listed twice",
                        "list each camera once");
  }
  if (o.downscale < 1)
    throw ConfigError("data.downscale: must be >= 1, got " + std::to_string(o.downscale),
                      "1 keeps the native resolution, 2 halves it, …");
  if (o.test_every < 0)
    throw ConfigError("data.test_every: must be >= 0, got " + std::to_string(o.test_every),
                      "0 keeps every frame for training");
  if (o.start_frame < 0)
    throw ConfigError("data.start_frame: must be >= 0, got " + std::to_string(o.start_frame),
                      "frames are counted from 0");
  if (o.end_frame < -1)
    throw ConfigError("data.end_frame: must be >= -1, got " + std::to_string(o.end_frame),
                      "-1 selects up to the last frame of the scene");
}

std::string frames_text(int total) {
  return "the scene has " + std::to_string(total) + " frames: 0.." + std::to_string(total - 1);
}

// The inclusive range [start, end] of the options, checked against the scene's frames.
std::pair<int, int> select_frames(const StreetOptions& o, int total) {
  const int end = o.end_frame == -1 ? total - 1 : o.end_frame;
  if (o.start_frame >= total)
    throw ConfigError("data.start_frame: frame " + std::to_string(o.start_frame) +
                          " does not exist: " + frames_text(total),
                      "choose a start frame inside the scene");
  if (end >= total)
    throw ConfigError(
        "data.end_frame: frame " + std::to_string(end) + " does not exist: " + frames_text(total),
        "choose an end frame inside the scene, or -1 for its last frame");
  if (o.start_frame > end)
    throw ConfigError("data.start_frame (" + std::to_string(o.start_frame) +
                          ") is after data.end_frame (" + std::to_string(end) + ")",
                      "the range is start_frame … end_frame, both included");
  return {o.start_frame, end};
}

std::string find_image(const fs::path& root, int frame, int camera_id) {
  const fs::path base = root / "images" / view_stem(frame, camera_id);
  std::error_code ec;
  for (const char* ext : {".jpg", ".png", ".jpeg"}) {
    fs::path p = base;
    p += ext;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  throw IoError(base.string() + ".jpg: image not found (nor .png, .jpeg)",
                "every selected frame and camera needs its image; select fewer frames or "
                "cameras (data.start_frame, data.end_frame, data.cameras)");
}

// One selected camera: its calibration in OpenCV axes and its native image size, which the
// first selected frame's image fixes for all of them.
struct StreetCamera {
  int id = 0;
  StreetIntrinsics intrinsics;
  Matrix4d camera_to_vehicle{};  // OpenCV camera axes
  int native_width = 0, native_height = 0;
  std::string size_source;
};

StreetCamera read_camera(const fs::path& root, int id, int first_frame) {
  StreetCamera cam;
  cam.id = id;
  const std::string name = std::to_string(id) + ".txt";
  cam.intrinsics = read_intrinsics_file((root / "intrinsics" / name).string());
  cam.camera_to_vehicle =
      multiply(read_pose_file((root / "extrinsics" / name).string()), kOpenCvToWaymoCamera);
  const std::string first = find_image(root, first_frame, id);
  // The intrinsics file does not give the image size, so the image does.
  const HostImage image = decode_host_image(first, {0, 0, 0});
  cam.native_width = image.width;
  cam.native_height = image.height;
  cam.size_source = "the first image of camera " + std::to_string(id) + " (" + first + ")";
  return cam;
}

int scaled(int size, int downscale) {
  return std::max(1, static_cast<int>(std::lround(double(size) / downscale)));
}

// The view of `cam` at frame `t` (index f of the range) and the request to read its image.
StreetView make_view(const fs::path& root, const StreetCamera& cam, int t, int f, int frames,
                     const Matrix4d& ego_to_world, const StreetOptions& o, ImageRequest* request) {
  StreetView sv;
  sv.frame = f;
  sv.camera_id = cam.id;
  View& v = sv.view;
  v.name = view_stem(t, cam.id);
  v.time = frames > 1 ? static_cast<float>(f) / static_cast<float>(frames - 1) : 0.f;
  v.image_path = find_image(root, t, cam.id);
  Camera& c = v.camera;
  c.name = v.name;
  c.width = scaled(cam.native_width, o.downscale);
  c.height = scaled(cam.native_height, o.downscale);
  // Pixel centres at i + 0.5 make the same scale exact for the principal point.
  const double sx = double(c.width) / cam.native_width, sy = double(c.height) / cam.native_height;
  c.fx = static_cast<float>(cam.intrinsics.fx * sx);
  c.fy = static_cast<float>(cam.intrinsics.fy * sy);
  c.cx = static_cast<float>(cam.intrinsics.cx * sx);
  c.cy = static_cast<float>(cam.intrinsics.cy * sy);
  const std::array<float, 16> pose = to_float(multiply(ego_to_world, cam.camera_to_vehicle));
  set_camera_to_world(c, pose.data());

  request->path = v.image_path;
  request->native_width = cam.native_width;
  request->native_height = cam.native_height;
  request->size_source = cam.size_source;
  request->out_width = c.width;
  request->out_height = c.height;
  request->fx = c.fx, request->fy = c.fy, request->cx = c.cx, request->cy = c.cy;
  request->distortion.coeffs = cam.intrinsics.distortion;
  return sv;
}

// drivestudio's scene radius: 1.1 × half the largest side of the box around the LiDAR points,
// or around the camera centres when there is no LiDAR.
void set_bounds(StreetScene& s) {
  std::array<double, 3> lo{HUGE_VAL, HUGE_VAL, HUGE_VAL}, hi{-HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
  auto add = [&](float x, float y, float z) {
    const float p[3] = {x, y, z};
    for (int k = 0; k < 3; ++k)
      lo[k] = std::min<double>(lo[k], p[k]), hi[k] = std::max<double>(hi[k], p[k]);
  };
  for (const LidarSweep& sweep : s.lidar)
    for (size_t i = 0; i + 2 < sweep.points.size(); i += 3)
      add(sweep.points[i], sweep.points[i + 1], sweep.points[i + 2]);
  const bool from_lidar = lo[0] <= hi[0];
  if (!from_lidar)
    for (const auto* views : {&s.train, &s.test})
      for (const StreetView& v : *views) {
        const auto c = camera_center(v.view.camera);
        add(c[0], c[1], c[2]);
      }
  double side = 0;
  for (int k = 0; k < 3; ++k) {
    s.aabb_min[k] = static_cast<float>(lo[k]);
    s.aabb_max[k] = static_cast<float>(hi[k]);
    side = std::max(side, hi[k] - lo[k]);
  }
  s.scene_radius = static_cast<float>(1.1 * 0.5 * side);
  if (!(s.scene_radius > 1e-6f) || !std::isfinite(s.scene_radius)) {
    log_warn(s.root, ": the ", from_lidar ? "LiDAR points" : "cameras",
             " do not spread out; using a scene radius of 1");
    s.scene_radius = 1.f;
  }
}

size_t count_points(const StreetScene& s) {
  size_t n = 0;
  for (const LidarSweep& sweep : s.lidar) n += sweep.points.size() / 3;
  return n;
}

// Host bytes of the images and masks: four masks at one byte per pixel can rival the RGB
// images, so the log says what they take.
size_t pixel_bytes(const StreetScene& s) {
  size_t n = 0;
  for (const auto* images : {&s.train_images, &s.test_images})
    for (const HostImage& im : *images) n += im.bytes();
  for (const auto* masks : {&s.train_masks, &s.test_masks})
    for (const StreetFrameMasks& m : *masks)
      n += m.sky.values.size() + m.dynamic_all.values.size() + m.dynamic_human.values.size() +
           m.dynamic_vehicle.values.size();
  return n;
}

}  // namespace

int count_street_frames(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec))
    throw IoError(path + ": street scene folder not found",
                  "point data.path at a scene folder of drivestudio's processed layout "
                  "(docs/street_format.md)");
  const fs::path poses = fs::path(path) / "ego_pose";
  if (!fs::is_directory(poses, ec))
    throw IoError(poses.string() + ": folder not found",
                  "a street scene has one ego_pose/{t:03d}.txt per frame (docs/street_format.md)");
  int count = 0;
  for (const auto& entry : fs::directory_iterator(poses, ec)) {
    const std::string stem = entry.path().stem().string();
    const bool numbered = !stem.empty() && std::all_of(stem.begin(), stem.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    if (numbered && entry.path().extension() == ".txt") ++count;
  }
  return count;
}

StreetScene load_street_scene(const std::string& path, const StreetOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(options);
  const int total = count_street_frames(path);
  const fs::path root(path);
  if (total == 0)
    throw IoError((root / "ego_pose").string() + ": no frames (no {t:03d}.txt files)",
                  "a street scene has one ego pose per frame");
  const auto [start, end] = select_frames(options, total);

  StreetScene s;
  s.root = path;
  s.start_frame = start;
  s.frames = end - start + 1;
  s.cameras = options.cameras;

  // World = the vehicle frame of the first selected frame (exactly identity there, whatever the
  // rounding of inverse · pose).
  const Matrix4d world_from_log =
      rigid_inverse(read_pose_file((root / "ego_pose" / (frame_stem(start) + ".txt")).string()));
  std::vector<Matrix4d> ego_to_world(s.frames, kIdentity);
  for (int f = 1; f < s.frames; ++f)
    ego_to_world[f] =
        multiply(world_from_log,
                 read_pose_file((root / "ego_pose" / (frame_stem(start + f) + ".txt")).string()));
  for (const Matrix4d& m : ego_to_world) s.ego_to_world.push_back(to_float(m));

  std::vector<StreetCamera> cameras;
  for (int id : options.cameras) cameras.push_back(read_camera(root, id, start));
  std::vector<ImageRequest> train_requests, test_requests;
  for (int f = 0; f < s.frames; ++f) {
    // drivestudio's test_image_stride: frames N, 2N, … of the range, every camera of them.
    const bool test = options.test_every > 0 && f > 0 && f % options.test_every == 0;
    for (const StreetCamera& cam : cameras) {
      ImageRequest request;
      StreetView view =
          make_view(root, cam, start + f, f, s.frames, ego_to_world[f], options, &request);
      (test ? s.test : s.train).push_back(std::move(view));
      (test ? test_requests : train_requests).push_back(std::move(request));
    }
  }
  // The small files first, the images last: a malformed instance file or sweep then stops the
  // load before minutes of image decoding.
  std::error_code ec;
  const fs::path instances = root / "instances";
  if (fs::is_directory(instances, ec))
    s.instances = read_street_instances((instances / "instances_info.json").string(),
                                        (instances / "frame_instances.json").string(), total, start,
                                        s.frames, world_from_log);
  s.world_from_log = world_from_log;
  if (fs::exists(root / "humanpose" / "poses.json", ec))
    s.human_poses = read_human_poses((root / "humanpose" / "poses.json").string(), s.instances,
                                     total, start, s.frames, world_from_log);
  if (options.load_lidar) {
    if (fs::is_directory(root / "lidar", ec)) {
      for (int f = 0; f < s.frames; ++f)
        s.lidar.push_back(
            read_lidar_sweep((root / "lidar" / (frame_stem(start + f) + ".bin")).string(),
                             ego_to_world[f], options.max_lidar_points));
    } else {
      log_warn(path, ": no lidar/ folder; training without LiDAR (scene radius from the cameras)");
    }
  }
  if (options.load_images) {
    // Street images are opaque; the background only matters for a PNG with alpha.
    s.train_images = read_view_images(train_requests, {0, 0, 0});
    s.test_images = read_view_images(test_requests, {0, 0, 0});
    if (options.load_masks) {
      s.train_masks = load_view_masks(path, s.train, train_requests);
      s.test_masks = load_view_masks(path, s.test, test_requests);
    }
  }

  set_bounds(s);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_info("loaded street scene ", path, ": frames ", start, "..", end, " of ", total, ", ",
           cameras.size(), " cameras, ", s.train.size(), " train + ", s.test.size(),
           " test views at ", s.train.empty() ? 0 : s.train[0].view.camera.width, "x",
           s.train.empty() ? 0 : s.train[0].view.camera.height, ", ", count_points(s),
           " LiDAR points, ", s.instances.size(), " instances, radius ", s.scene_radius,
           ", images and masks ", format_bytes(pixel_bytes(s)), " in host memory, ", seconds, " s");
  return s;
}

}  // namespace gs
