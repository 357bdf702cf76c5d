// The street losses' host API (argument checks, the CPU backend with its double sums, dispatch
// to CUDA) and the LiDAR depth image.
#include "trainer/street_losses.h"

#include <cmath>
#include <string>
#include <type_traits>

#include "core/backend_dispatch.h"
#include "core/errors.h"
#include "core/host_sum.h"
#include "trainer/street_losses_impl.h"

namespace gs {
namespace {

void check_weight(double weight, const char* what) {
  if (!(weight >= 0) || !std::isfinite(weight))
    throw Error(std::string(what) + ": weight " + std::to_string(weight) +
                    " must be finite and non-negative",
                "check the loss weights in the config");
}

}  // namespace

template <class T>
double sky_opacity_loss(const Device& device, size_t pixels, const T* alpha,
                        const uint8_t* sky_mask, double weight, T* v_alpha) {
  check_weight(weight, "sky opacity loss");
  if (pixels == 0) return 0;
  GS_CHECK(alpha && sky_mask, "sky opacity loss: null alpha or mask");
  if (runs_on_cuda<T>(device, "sky opacity loss")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      return detail::sky_opacity_loss_cuda(device, pixels, alpha, sky_mask, weight, v_alpha);
#endif
  }
  const double scale = weight / double(pixels);
  return scale * street_loss_passes::sky_opacity_pass<T>(device, pixels, alpha, sky_mask,
                                                         T(scale), v_alpha, HostSum{});
}

template <class T>
double lidar_depth_loss(const Device& device, size_t pixels, const T* depth, const T* alpha,
                        const T* lidar_depth, double weight, T* v_depth, T* v_alpha,
                        double alpha_eps) {
  check_weight(weight, "LiDAR depth loss");
  GS_CHECK(alpha_eps > 0, "LiDAR depth loss: alpha_eps must be positive");
  if (pixels == 0) return 0;
  GS_CHECK(depth && alpha && lidar_depth, "LiDAR depth loss: null image pointer");
  if (runs_on_cuda<T>(device, "LiDAR depth loss")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      return detail::lidar_depth_loss_cuda(device, pixels, depth, alpha, lidar_depth, weight,
                                           v_depth, v_alpha, alpha_eps);
#endif
  }
  const double valid = street_loss_passes::lidar_valid_count<T>(device, pixels, lidar_depth,
                                                                HostSum{});
  if (valid == 0) return 0;
  const double scale = weight / valid;
  return scale * street_loss_passes::lidar_depth_pass<T>(device, pixels, depth, alpha,
                                                         lidar_depth, T(alpha_eps), T(scale),
                                                         v_depth, v_alpha, HostSum{});
}

std::vector<float> lidar_depth_image(const Camera& camera, const float* points_world,
                                     size_t count) {
  GS_CHECK(camera.width > 0 && camera.height > 0,
           "lidar_depth_image: camera '" + camera.name + "' has no pixels");
  GS_CHECK(count == 0 || points_world, "lidar_depth_image: null points");
  const int w = camera.width, h = camera.height;
  std::vector<float> depth(size_t(w) * size_t(h), 0.f);
  const float* m = camera.world_to_camera;
  for (size_t k = 0; k < count; ++k) {
    const float* p = points_world + 3 * k;
    // In double: a sweep reaches 80 m and beyond, where float rounding could shift the pixel.
    double c[3];
    for (int i = 0; i < 3; ++i)
      c[i] = double(m[i * 4]) * p[0] + double(m[i * 4 + 1]) * p[1] + double(m[i * 4 + 2]) * p[2] +
             double(m[i * 4 + 3]);
    if (!(c[2] > 0)) continue;  // behind the camera, or NaN
    const double u = camera.fx * c[0] / c[2] + camera.cx;
    const double v = camera.fy * c[1] / c[2] + camera.cy;
    if (!(u >= 0 && u < w && v >= 0 && v < h)) continue;
    float& d = depth[size_t(v) * size_t(w) + size_t(u)];
    const float z = float(c[2]);
    if (d == 0.f || z < d) d = z;
  }
  return depth;
}

#define GS_INSTANTIATE_STREET_LOSSES(T)                                                        \
  template double sky_opacity_loss<T>(const Device&, size_t, const T*, const uint8_t*, double, \
                                      T*);                                                     \
  template double lidar_depth_loss<T>(const Device&, size_t, const T*, const T*, const T*,     \
                                      double, T*, T*, double);
GS_INSTANTIATE_STREET_LOSSES(float)
GS_INSTANTIATE_STREET_LOSSES(double)
#undef GS_INSTANTIATE_STREET_LOSSES

}  // namespace gs
