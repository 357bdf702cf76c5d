// The ego vehicle's sensors: the Waymo-style camera rig (poses, intrinsics, the conversion to
// the renderer's OpenCV camera), the sky behind the renders, and the roof LiDAR cast by
// rendering depth maps around the sensor (the same renderer, so the points lie exactly on the
// surfaces the cameras see).
#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"
#include "datasets/street_builder.h"

namespace gs::synth {
namespace {

constexpr double kDeg = 3.14159265358979323846 / 180;

struct Mount {
  Vec3 position;      // in the vehicle frame (x forward, y left, z up; origin on the ground)
  float yaw_degrees;  // about z, left positive
};
// Waymo's five cameras, roughly where they sit on the Waymo vehicle: 0 front, 1 front-left,
// 2 front-right, 3 side-left, 4 side-right.
constexpr Mount kMounts[5] = {{{1.55f, 0.00f, 1.80f}, 0},
                              {{1.50f, 0.10f, 1.80f}, 47},
                              {{1.50f, -0.10f, 1.80f}, -47},
                              {{1.20f, 0.20f, 1.80f}, 90},
                              {{1.20f, -0.20f, 1.80f}, -90}};
constexpr float kCameraPitchDegrees = 1.5f;  // nose down: a little more road, a little less sky
// Waymo's front cameras: fx ≈ 2055 px at 1920 px wide, a ~50° horizontal field.
constexpr float kFocalPerWidth = 1.07f;

// LiDAR: Waymo's top sensor sees −17.6° … +2.4° in elevation.
constexpr float kLidarPitchDegrees = 7.6f;       // centre of the vertical field, below level
constexpr float kLidarHalfFieldDegrees = 10.0f;  // half the vertical field
constexpr int kLidarViews = 8;                   // 45° of azimuth each

Mat4 waymo_pose(Vec3 position, float yaw_degrees, float pitch_degrees) {
  return Mat4::translation(position) *
         Mat4::rotation({0, 0, 1}, static_cast<float>(yaw_degrees * kDeg)) *
         Mat4::rotation({0, 1, 0}, static_cast<float>(pitch_degrees * kDeg));  // +pitch: x down
}

Camera pinhole(int width, int height, float fx, float fy, const Mat4& camera_to_road) {
  Camera c;
  c.width = width;
  c.height = height;
  c.fx = fx;
  c.fy = fy;
  c.cx = 0.5f * static_cast<float>(width);
  c.cy = 0.5f * static_cast<float>(height);
  set_camera_to_world(c, camera_to_road.m);
  return c;
}

float smoothstep(float e0, float e1, float x) {
  const float t = std::clamp((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3 - 2 * t);
}

}  // namespace

const Mat4 kOpenCvToWaymoCamera = [] {
  Mat4 m;
  const float r[9] = {0, 0, 1, -1, 0, 0, 0, -1, 0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m.m[i * 4 + j] = r[i * 3 + j];
  return m;
}();

const Vec3 kLidarSensorInVehicle{1.2f, 0.0f, 2.0f};

StreetCamera street_camera(int id, int width, int height) {
  if (id < 0 || id > 4)
    throw ConfigError("street camera id " + std::to_string(id) + " is not 0..4");
  StreetCamera c;
  c.id = id;
  c.width = width;
  c.height = height;
  c.fx = c.fy = kFocalPerWidth * static_cast<float>(width);
  c.cx = 0.5f * static_cast<float>(width);
  c.cy = 0.5f * static_cast<float>(height);
  c.camera_to_vehicle =
      waymo_pose(kMounts[id].position, kMounts[id].yaw_degrees, kCameraPitchDegrees);
  return c;
}

Camera street_render_camera(const StreetCamera& camera, const Mat4& vehicle_to_road) {
  const Mat4 opencv_to_road = vehicle_to_road * camera.camera_to_vehicle * kOpenCvToWaymoCamera;
  Camera c = pinhole(camera.width, camera.height, camera.fx, camera.fy, opencv_to_road);
  c.cx = camera.cx;
  c.cy = camera.cy;
  return c;
}

std::vector<uint8_t> composite_over_sky(const MeshRenderResult& render, const Camera& camera) {
  const Rgb horizon{0.80f, 0.85f, 0.90f}, zenith{0.33f, 0.52f, 0.82f};
  const std::array<float, 16> c2w = camera_to_world(camera);
  std::vector<uint8_t> out(static_cast<size_t>(render.width) * render.height * 3);
  for (int j = 0; j < render.height; ++j)
    for (int i = 0; i < render.width; ++i) {
      const size_t p = static_cast<size_t>(j) * render.width + i;
      const float a = render.rgba[p * 4 + 3];
      // The pixel ray's world z and length give its elevation.
      const float x = (static_cast<float>(i) + 0.5f - camera.cx) / camera.fx;
      const float y = (static_cast<float>(j) + 0.5f - camera.cy) / camera.fy;
      const float dz = c2w[8] * x + c2w[9] * y + c2w[10];
      const float sin_elevation = dz / std::sqrt(x * x + y * y + 1);
      const float t = smoothstep(0.0f, 0.7f, sin_elevation);
      const float sky[3] = {horizon.r + (zenith.r - horizon.r) * t,
                            horizon.g + (zenith.g - horizon.g) * t,
                            horizon.b + (zenith.b - horizon.b) * t};
      for (int c = 0; c < 3; ++c) {
        const float v = render.rgba[p * 4 + c] * a + sky[c] * (1 - a);
        out[p * 3 + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255));
      }
    }
  return out;
}

std::vector<float> cast_lidar_sweep(const std::vector<MeshInstance>& instances,
                                    const std::vector<ProceduralTexture>& textures,
                                    const Mat4& vehicle_to_road, int beams, int azimuths,
                                    std::vector<int>& label_hits) {
  const int width = azimuths / kLidarViews;
  const float fx = 0.5f * static_cast<float>(width) /
                   static_cast<float>(std::tan(0.5 * 360.0 / kLidarViews * kDeg));
  const float fy = 0.5f * static_cast<float>(beams) /
                   static_cast<float>(std::tan(kLidarHalfFieldDegrees * kDeg));
  MeshRenderOptions options;
  options.supersample = 1;  // one ray per pixel centre: depth and label of exactly that ray
  std::vector<float> rows;
  for (int view = 0; view < kLidarViews; ++view) {
    const Mat4 cam_to_vehicle =
        waymo_pose(kLidarSensorInVehicle, static_cast<float>(view * 360 / kLidarViews),
                   kLidarPitchDegrees) *
        kOpenCvToWaymoCamera;
    const Camera cam = pinhole(width, beams, fx, fy, vehicle_to_road * cam_to_vehicle);
    const MeshRenderResult r = render_meshes(instances, textures, cam, options);
    for (int j = 0; j < beams; ++j)
      for (int i = 0; i < width; ++i) {
        const size_t p = static_cast<size_t>(j) * width + i;
        if (r.rgba[p * 4 + 3] == 0) continue;  // the ray leaves the scene
        const float z = r.depth[p];
        const Vec3 on_ray{z * (static_cast<float>(i) + 0.5f - cam.cx) / fx,
                          z * (static_cast<float>(j) + 0.5f - cam.cy) / fy, z};
        if (dot(on_ray, on_ray) > kLidarMaxRange * kLidarMaxRange) continue;
        const Vec3 point = cam_to_vehicle.transform_point(on_ray);
        // Return strength from the surface brightness: paint and light facades come back
        // strongly, asphalt and tyres weakly.
        const float luminance =
            0.2126f * r.rgba[p * 4] + 0.7152f * r.rgba[p * 4 + 1] + 0.0722f * r.rgba[p * 4 + 2];
        const int label = r.label[p];
        const float row[14] = {kLidarSensorInVehicle.x,
                               kLidarSensorInVehicle.y,
                               kLidarSensorInVehicle.z,
                               point.x,
                               point.y,
                               point.z,
                               0,
                               0,
                               0,  // flow
                               0,  // flow class
                               label == kGroundLabel ? 1.0f : 0.0f,
                               0.02f + 0.9f * luminance * luminance,
                               0,   // elongation
                               0};  // laser id: the top LiDAR
        rows.insert(rows.end(), row, row + 14);
        if (label >= static_cast<int>(label_hits.size()))
          label_hits.resize(static_cast<size_t>(label) + 1, 0);
        ++label_hits[static_cast<size_t>(label)];
      }
  }
  return rows;
}

}  // namespace gs::synth
