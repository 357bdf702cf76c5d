// CUDA backend of accumulate_densify_stats (same body as the CPU one).
#include "scene/densify_stats_impl.h"

namespace gs {

void accumulate_densify_stats_cuda(const Device& device, size_t n, const float* grad2d,
                                   const int32_t* radii, float sx, float sy, float* accum,
                                   float* count, float* max_radius) {
  accumulate_densify_stats_impl(device, n, grad2d, radii, sx, sy, accum, count, max_radius);
}

}  // namespace gs
