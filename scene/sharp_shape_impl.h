// Kernel body of the sharp-shape regulariser's gradient (sharp_shape.h), shared by both backends.
#pragma once

#include <cmath>
#include <cstddef>

#include "core/hd.h"

namespace gs::sharp_shape_impl {

// Gaussian i's ratio r = max scale / min scale = exp(ls_max − ls_min); above the limit,
// ∂(c·(r − limit))/∂ls_max = c·r and ∂/∂ls_min = −c·r (the first axis wins a tie).
struct SharpShapeKernel {
  const float* log_scales;
  float limit;  // max_gauss_ratio
  float scale;  // weight / N
  float* grads;

  GS_HD void operator()(size_t i) const {
    const float* ls = log_scales + 3 * i;
    int hi = 0, lo = 0;
    for (int a = 1; a < 3; ++a) {
      if (ls[a] > ls[hi]) hi = a;
      if (ls[a] < ls[lo]) lo = a;
    }
    const float r = expf(ls[hi] - ls[lo]);
    if (!(r > limit)) return;
    grads[3 * i + size_t(hi)] += scale * r;
    grads[3 * i + size_t(lo)] -= scale * r;
  }
};

// ∂(c · max(s)²)/∂ls_max = 2c · max(s)² (s = exp(ls); the first axis wins a tie).
struct MaxScaleSquareKernel {
  const float* log_scales;
  float scale;  // weight / N
  float* grads;

  GS_HD void operator()(size_t i) const {
    const float* ls = log_scales + 3 * i;
    int hi = 0;
    for (int a = 1; a < 3; ++a)
      if (ls[a] > ls[hi]) hi = a;
    grads[3 * i + size_t(hi)] += 2.f * scale * expf(2.f * ls[hi]);
  }
};

}  // namespace gs::sharp_shape_impl
