// Per-Gaussian densification statistics update, one body for both backends.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/hd.h"
#include "core/parallel_for.h"

namespace gs {
GS_BACKEND_NS_BEGIN  // one symbol per backend (see core/parallel_for.h)

inline void accumulate_densify_stats_impl(const Device& device, size_t n, const float* grad2d,
                                          const int32_t* radii, float sx, float sy,
                                          float inv_side, float* accum, float* count,
                                          float* max_screen_size) {
  parallel_for(device, n, [=] GS_HD(size_t i) {
    const int32_t r = radii[i];
    if (r <= 0) return;
    const float gx = grad2d[2 * i] * sx, gy = grad2d[2 * i + 1] * sy;
    accum[i] += sqrtf(gx * gx + gy * gy);
    count[i] += 1.0f;
    max_screen_size[i] = fmaxf(max_screen_size[i], float(r) * inv_side);
  });
}

GS_BACKEND_NS_END
}  // namespace gs
