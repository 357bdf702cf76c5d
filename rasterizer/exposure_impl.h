// Kernel bodies of the per-image exposure affine (exposure.h), shared by exposure_cpu.cpp and
// exposure_cuda.cu (one pixel per index). The backward body returns each pixel's share of the
// parameter gradient; summing the shares is what each backend writes itself.
#pragma once

#include <cstddef>

#include "core/hd.h"
#include "rasterizer/exposure.h"

namespace gs::exposure_impl {

template <class T>
struct ExposureForwardKernel {
  const T *params, *rgb;
  T* out;

  GS_HD void operator()(size_t p) const {
    const T x[3] = {rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]};
    for (int r = 0; r < 3; ++r) {
      const T* row = params + 4 * r;
      out[3 * p + r] = x[r] + row[0] * x[0] + row[1] * x[1] + row[2] * x[2] + row[3];
    }
  }
};

template <class T>
struct ExposureBackwardBody {
  const T *params, *rgb, *v_out;
  T* v_rgb;  // may be null

  // Writes pixel p's ∂L/∂rgb and returns its share of ∂L/∂params in g (layout of params).
  GS_HD void operator()(size_t p, T g[kExposureParams]) const {
    const T o[3] = {v_out[3 * p], v_out[3 * p + 1], v_out[3 * p + 2]};
    const T x[3] = {rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]};
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) g[4 * r + c] = o[r] * x[c];
      g[4 * r + 3] = o[r];
    }
    if (!v_rgb) return;
    for (int c = 0; c < 3; ++c)
      v_rgb[3 * p + c] = o[c] + params[c] * o[0] + params[4 + c] * o[1] + params[8 + c] * o[2];
  }
};

// The backward without parameter gradients (they are frozen, or not asked for).
template <class T>
struct ExposureBackwardRgbKernel {
  ExposureBackwardBody<T> body;
  GS_HD void operator()(size_t p) const {
    T g[kExposureParams];
    body(p, g);
  }
};

// The L1 regulariser, one parameter per index: |p| for the value, weight·sign(p) (0 at 0, as
// torch's sign) added to the gradient.
template <class T>
struct ExposureRegularizerKernel {
  const T* params;
  T weight;
  T* abs_terms;
  T* v_params;  // may be null

  GS_HD void operator()(size_t j) const {
    const T p = params[j];
    abs_terms[j] = p < T(0) ? -p : p;
    if (v_params) v_params[j] += p > T(0) ? weight : (p < T(0) ? -weight : T(0));
  }
};

}  // namespace gs::exposure_impl
