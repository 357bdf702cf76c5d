// Camera helpers that are not one-liners.
#include "core/camera.h"

#include <cmath>

#include "core/errors.h"

namespace gs {

Camera look_at_camera(int width, int height, float fx, float fy, const std::array<float, 3>& eye,
                      const std::array<float, 3>& target, const std::array<float, 3>& up) {
  auto sub = [](const std::array<float, 3>& a, const std::array<float, 3>& b) {
    return std::array<float, 3>{a[0] - b[0], a[1] - b[1], a[2] - b[2]};
  };
  auto cross = [](const std::array<float, 3>& a, const std::array<float, 3>& b) {
    return std::array<float, 3>{a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                                a[0] * b[1] - a[1] * b[0]};
  };
  auto normalize = [](std::array<float, 3> a) {
    const float n = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    GS_CHECK(n > 0, "look_at_camera: degenerate direction");
    for (float& v : a) v /= n;
    return a;
  };
  // Camera axes in world coordinates: z forward, x right, y down (OpenCV).
  const auto z = normalize(sub(target, eye));
  const auto x = normalize(cross(z, up));
  const auto y = cross(z, x);
  Camera c;
  c.width = width;
  c.height = height;
  c.fx = fx;
  c.fy = fy;
  c.cx = 0.5f * width;
  c.cy = 0.5f * height;
  const std::array<float, 3> axes[3] = {x, y, z};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) c.world_to_camera[i * 4 + j] = axes[i][j];
    c.world_to_camera[i * 4 + 3] =
        -(axes[i][0] * eye[0] + axes[i][1] * eye[1] + axes[i][2] * eye[2]);
  }
  return c;
}

}  // namespace gs
