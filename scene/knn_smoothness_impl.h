// Kernel body of the kNN smoothness gradient (knn_smoothness.h), shared by both backends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hd.h"

namespace gs::smooth_impl {

struct SmoothnessKernel {
  const int32_t *offsets, *indices;
  const float* values;
  int stride, dims;
  float scale;
  float* grads;
  int grad_stride;

  GS_HD void operator()(size_t i) const {
    for (int d = 0; d < dims; ++d) {
      const float own = values[i * size_t(stride) + size_t(d)];
      float sum = 0.f;
      for (int32_t e = offsets[i]; e < offsets[i + 1]; ++e)
        sum += own - values[size_t(indices[e]) * size_t(stride) + size_t(d)];
      grads[i * size_t(grad_stride) + size_t(d)] += scale * sum;
    }
  }
};

}  // namespace gs::smooth_impl
