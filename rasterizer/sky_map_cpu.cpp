// Sky cube map on the CPU: the shared bodies (sky_map_impl.h). The forward runs under
// parallel_for; the backward walks the pixels on one thread, because neighbouring pixels add to
// the same texels and a serial order keeps the sums deterministic (a 512×512 view is ~1M adds).
#include "core/parallel_for.h"
#include "rasterizer/sky_map.h"
#include "rasterizer/sky_map_impl.h"

namespace gs {

template <class T>
void sky_composite_forward_cpu(const Camera& camera, int resolution, const T* texels, const T* rgb,
                               const T* alpha, T* out, T* sky_out) {
  const size_t pixels = size_t(camera.width) * size_t(camera.height);
  parallel_for(Device::cpu(), pixels,
               sky_impl::SkyForwardKernel<T>{sky_impl::sky_camera<T>(camera), resolution, texels,
                                             rgb, alpha, out, sky_out});
}

template <class T>
void sky_composite_backward_cpu(const Camera& camera, int resolution, const T* texels,
                                const T* alpha, const T* v_out, T* v_alpha, T* v_texels) {
  const size_t pixels = size_t(camera.width) * size_t(camera.height);
  const sky_impl::SkyBackwardKernel<T> body{sky_impl::sky_camera<T>(camera), resolution, texels,
                                            alpha, v_out, v_alpha, v_texels};
  for (size_t p = 0; p < pixels; ++p) body(p);
}

#define GS_INSTANTIATE_SKY_CPU(T)                                                              \
  template void sky_composite_forward_cpu<T>(const Camera&, int, const T*, const T*, const T*, \
                                             T*, T*);                                          \
  template void sky_composite_backward_cpu<T>(const Camera&, int, const T*, const T*,          \
                                              const T*, T*, T*);
GS_INSTANTIATE_SKY_CPU(float)
GS_INSTANTIATE_SKY_CPU(double)
#undef GS_INSTANTIATE_SKY_CPU

}  // namespace gs
