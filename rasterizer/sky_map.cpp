// Sky cube map host API: argument checks and dispatch to the CPU or CUDA backend.
#include "rasterizer/sky_map.h"

#include <string>
#include <type_traits>

#include "core/backend_dispatch.h"
#include "core/errors.h"

namespace gs {
namespace {

void check_sky_args(const Camera& camera, int resolution, const char* what) {
  if (resolution < 1)
    throw Error(std::string(what) + ": sky map resolution " + std::to_string(resolution) +
                    " must be at least 1",
                "set the sky map resolution to a positive size (drivestudio uses 1024)");
  GS_CHECK(camera.width >= 0 && camera.height >= 0,
           std::string(what) + ": negative image size for camera '" + camera.name + "'");
  GS_CHECK(camera.fx != 0 && camera.fy != 0,
           std::string(what) + ": zero focal length for camera '" + camera.name + "'");
}

}  // namespace

template <class T>
void sky_composite_forward(const Device& device, const Camera& camera, int resolution,
                           const T* texels, const T* rgb, const T* alpha, T* out, T* sky_out) {
  check_sky_args(camera, resolution, "sky_composite_forward");
  if (camera.width == 0 || camera.height == 0) return;
  GS_CHECK(texels && rgb && alpha && out, "sky_composite_forward: null pointer");
  if (runs_on_cuda<T>(device, "sky_composite_forward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      sky_composite_forward_cuda(device, camera, resolution, texels, rgb, alpha, out, sky_out);
#endif
    return;
  }
  sky_composite_forward_cpu<T>(camera, resolution, texels, rgb, alpha, out, sky_out);
}

template <class T>
void sky_composite_backward(const Device& device, const Camera& camera, int resolution,
                            const T* texels, const T* alpha, const T* v_out, T* v_alpha,
                            T* v_texels) {
  check_sky_args(camera, resolution, "sky_composite_backward");
  if (camera.width == 0 || camera.height == 0 || (!v_alpha && !v_texels)) return;
  GS_CHECK(texels && alpha && v_out, "sky_composite_backward: null pointer");
  if (runs_on_cuda<T>(device, "sky_composite_backward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      sky_composite_backward_cuda(device, camera, resolution, texels, alpha, v_out, v_alpha,
                                  v_texels);
#endif
    return;
  }
  sky_composite_backward_cpu<T>(camera, resolution, texels, alpha, v_out, v_alpha, v_texels);
}

#define GS_INSTANTIATE_SKY(T)                                                                   \
  template void sky_composite_forward<T>(const Device&, const Camera&, int, const T*, const T*, \
                                         const T*, T*, T*);                                     \
  template void sky_composite_backward<T>(const Device&, const Camera&, int, const T*,          \
                                          const T*, const T*, T*, T*);
GS_INSTANTIATE_SKY(float)
GS_INSTANTIATE_SKY(double)
#undef GS_INSTANTIATE_SKY

}  // namespace gs
