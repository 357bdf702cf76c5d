// Box downsampling of an image by an integer factor, one body for both backends: output pixel
// (x, y) is the mean of the s×s input pixels [x·s, x·s + s) × [y·s, y·s + s).
#pragma once

#include <cstddef>

#include "core/parallel_for.h"

namespace gs {
GS_BACKEND_NS_BEGIN  // one symbol per backend (see core/parallel_for.h)

inline void downsample_box_impl(const Device& device, const float* src, int width, int channels,
                                int factor, int out_width, int out_height, float* dst) {
  const size_t n = size_t(out_width) * size_t(out_height) * size_t(channels);
  parallel_for(device, n, [=] GS_HD(size_t i) {
    const int c = int(i % size_t(channels));
    const size_t p = i / size_t(channels);
    const int x = int(p % size_t(out_width)), y = int(p / size_t(out_width));
    float sum = 0.0f;
    for (int dy = 0; dy < factor; ++dy)
      for (int dx = 0; dx < factor; ++dx)
        sum += src[(size_t(y * factor + dy) * size_t(width) + size_t(x * factor + dx)) *
                       size_t(channels) + size_t(c)];
    dst[i] = sum / float(factor * factor);
  });
}

GS_BACKEND_NS_END
}  // namespace gs
