// Sky cube map on CUDA: the shared bodies (sky_map_impl.h) under parallel_for; texel gradients
// are atomic adds.
#include "core/parallel_for.h"
#include "rasterizer/sky_map.h"
#include "rasterizer/sky_map_impl.h"

namespace gs {

void sky_composite_forward_cuda(const Device& device, const Camera& camera, int resolution,
                                const float* texels, const float* rgb, const float* alpha,
                                float* out, float* sky_out) {
  const size_t pixels = size_t(camera.width) * size_t(camera.height);
  parallel_for(device, pixels,
               sky_impl::SkyForwardKernel<float>{sky_impl::sky_camera<float>(camera), resolution,
                                                 texels, rgb, alpha, out, sky_out});
}

void sky_composite_backward_cuda(const Device& device, const Camera& camera, int resolution,
                                 const float* texels, const float* alpha, const float* v_out,
                                 float* v_alpha, float* v_texels) {
  const size_t pixels = size_t(camera.width) * size_t(camera.height);
  parallel_for(device, pixels,
               sky_impl::SkyBackwardKernel<float>{sky_impl::sky_camera<float>(camera), resolution,
                                                  texels, alpha, v_out, v_alpha, v_texels});
}

}  // namespace gs
