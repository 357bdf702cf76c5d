// A pinhole camera in the COLMAP/OpenCV convention (x right, y down, z forward; pixel (i, j)
// centred at (i+0.5, j+0.5)) with a rigid world→camera transform. Distortion is removed at load
// time, so the rasterizer only ever sees this.
#pragma once

#include <array>
#include <string>

namespace gs {

struct Camera {
  std::string name;
  int width = 0, height = 0;
  float fx = 0, fy = 0, cx = 0, cy = 0;
  // Row-major 4×4 world→camera transform [R t; 0 0 0 1], R a rotation.
  float world_to_camera[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
};

// Camera centre in world coordinates: −Rᵀ t.
inline std::array<float, 3> camera_center(const Camera& c) {
  const float* m = c.world_to_camera;
  std::array<float, 3> p{};
  for (int i = 0; i < 3; ++i) p[i] = -(m[0 * 4 + i] * m[3] + m[1 * 4 + i] * m[7] + m[2 * 4 + i] * m[11]);
  return p;
}

// Row-major 4×4 camera→world transform (the inverse of world_to_camera for a rigid motion).
inline std::array<float, 16> camera_to_world(const Camera& c) {
  const float* m = c.world_to_camera;
  std::array<float, 16> out{};
  const std::array<float, 3> p = camera_center(c);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) out[i * 4 + j] = m[j * 4 + i];
    out[i * 4 + 3] = p[i];
  }
  out[15] = 1;
  return out;
}

// Sets world_to_camera from a camera→world pose (row-major 4×4, rigid).
inline void set_camera_to_world(Camera& c, const float pose[16]) {
  float* m = c.world_to_camera;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m[i * 4 + j] = pose[j * 4 + i];
    m[i * 4 + 3] = -(pose[0 * 4 + i] * pose[3] + pose[1 * 4 + i] * pose[7] + pose[2 * 4 + i] * pose[11]);
  }
  m[12] = m[13] = m[14] = 0;
  m[15] = 1;
}

// A camera at `eye` looking at `target` (OpenCV axes: `up` maps to −y), for tests and tools.
Camera look_at_camera(int width, int height, float fx, float fy, const std::array<float, 3>& eye,
                      const std::array<float, 3>& target,
                      const std::array<float, 3>& up = {0, -1, 0});

}  // namespace gs
