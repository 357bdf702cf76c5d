// SH → colour on the CPU: the shared kernel bodies (sh_impl.h) under parallel_for.
#include "core/parallel_for.h"
#include "rasterizer/rasterize_backends.h"
#include "rasterizer/sh.h"
#include "rasterizer/sh_impl.h"

namespace gs {

template <class T>
void sh_to_color_forward_cpu(size_t n, int sh_degree, int active_degree, const T* sh,
                             const T* means, const T campos[3], T* colors) {
  parallel_for(Device::cpu(), n,
               raster_impl::ShForwardKernel<T>{sh_coeff_count(sh_degree), active_degree, sh, means,
                                               {campos[0], campos[1], campos[2]}, colors});
}

template <class T>
void sh_to_color_backward_cpu(size_t n, int sh_degree, int active_degree, const T* sh,
                              const T* means, const T campos[3], const T* v_colors, T* v_sh,
                              T* v_means) {
  parallel_for(Device::cpu(), n,
               raster_impl::ShBackwardKernel<T>{sh_coeff_count(sh_degree), active_degree, sh,
                                                means, {campos[0], campos[1], campos[2]},
                                                v_colors, v_sh, v_means});
}

template void sh_to_color_forward_cpu<float>(size_t, int, int, const float*, const float*,
                                             const float*, float*);
template void sh_to_color_forward_cpu<double>(size_t, int, int, const double*, const double*,
                                              const double*, double*);
template void sh_to_color_backward_cpu<float>(size_t, int, int, const float*, const float*,
                                              const float*, const float*, float*, float*);
template void sh_to_color_backward_cpu<double>(size_t, int, int, const double*, const double*,
                                               const double*, const double*, double*, double*);

}  // namespace gs
