// Kernel body of the out-of-bound loss's gradient (box_bound.h), shared by both backends.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/hd.h"

namespace gs::box_bound_impl {

// ∂/∂x of c · relu(|x| − h) = c · sign(x) where |x| > h (h: half the box side, given as
// 1/side: |x| · (1/side) > 1/2). A Gaussian whose tag names no instance (one that the next
// densify culls) has no box and no gradient, as in the rigid and skinning bodies.
struct OutOfBoundKernel {
  const float* means;          // n × 3, box-local
  const int32_t* tags;         // n, the instance of each Gaussian
  const float* inv_box_size;   // K × 3
  size_t instances;            // K
  float scale;                 // weight / (3n)
  float* grads;                // n × 3, added to

  GS_HD void operator()(size_t i) const {
    const int32_t k = tags[i];
    if (k < 0 || size_t(k) >= instances) return;
    const float* inv = inv_box_size + 3 * size_t(k);
    for (int a = 0; a < 3; ++a) {
      const float x = means[3 * i + size_t(a)];
      if (fabsf(x) * inv[a] > 0.5f) grads[3 * i + size_t(a)] += x > 0 ? scale : -scale;
    }
  }
};

}  // namespace gs::box_bound_impl
