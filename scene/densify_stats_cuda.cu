// CUDA backend of accumulate_densify_stats (same body as the CPU one).
#include "scene/densify_stats_impl.h"

namespace gs {

void accumulate_densify_stats_cuda(const Device& device, size_t n, const float* grad2d,
                                   const int32_t* radii, float sx, float sy, float inv_side,
                                   float* accum, float* count, float* max_screen_size) {
  accumulate_densify_stats_impl(device, n, grad2d, radii, sx, sy, inv_side, accum, count,
                                max_screen_size);
}

}  // namespace gs
