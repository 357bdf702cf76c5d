// SH → colour on CUDA: the shared kernel bodies (sh_impl.h) under parallel_for.
#include "core/parallel_for.h"
#include "rasterizer/rasterize_backends.h"
#include "rasterizer/sh.h"
#include "rasterizer/sh_impl.h"

namespace gs {

void sh_to_color_forward_cuda(const Device& device, size_t n, int sh_degree, int active_degree,
                              const float* sh, const float* means, const float campos[3],
                              float* colors) {
  parallel_for(device, n,
               raster_impl::ShForwardKernel<float>{sh_coeff_count(sh_degree), active_degree, sh,
                                                   means, {campos[0], campos[1], campos[2]},
                                                   colors});
}

void sh_to_color_backward_cuda(const Device& device, size_t n, int sh_degree, int active_degree,
                               const float* sh, const float* means, const float campos[3],
                               const float* v_colors, float* v_sh, float* v_means) {
  parallel_for(device, n,
               raster_impl::ShBackwardKernel<float>{sh_coeff_count(sh_degree), active_degree, sh,
                                                    means, {campos[0], campos[1], campos[2]},
                                                    v_colors, v_sh, v_means});
}

}  // namespace gs
