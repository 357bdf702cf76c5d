// Per-image exposure / white-balance affine of OmniRe-style street scenes (DESIGN.md §5), as
// drivestudio's affine transform: 12 parameters per image, zero-initialised, applied on top of
// the identity to every pixel of the rendered image:
//   out = (I + A)·rgb + t,   params = the 3×4 matrix [A | t] row-major:
//   params[4·r + c] = A[r][c] (c < 3), params[4·r + 3] = t[r].
// Forward and backward on either device (exposure_impl.h), and the L1 regulariser.
#pragma once

#include <cstddef>

#include "core/device.h"

namespace gs {

constexpr int kExposureParams = 12;
// The regulariser's usual weight: weight · (Σ|A| + Σ|t|).
constexpr double kExposureRegularizerWeight = 1e-5;

// out = (I + A)·rgb + t per pixel; rgb and out are pixels × 3 and may not alias (the backward
// needs rgb). params (12) lives on `device` with the images. T is float or double on the CPU,
// float on CUDA.
template <class T>
void exposure_forward(const Device& device, size_t pixels, const T* params, const T* rgb, T* out);

// Backward: v_rgb (pixels × 3) = (I + A)ᵀ·v_out, overwritten, and may alias v_out (each pixel
// reads its own gradient before writing); v_params (12) += Σ_pixels [v_out·rgbᵀ | v_out].
// Either output may be null. The CPU sums in fixed chunks in a fixed order (bit-reproducible
// whatever the thread count); CUDA in block partials and atomics.
template <class T>
void exposure_backward(const Device& device, size_t pixels, const T* params, const T* rgb,
                       const T* v_out, T* v_rgb, T* v_params);

// The regulariser weight·(Σ|A| + Σ|t|) of one image's params (on `device`): returns its value
// and, when v_params is not null, adds its subgradient weight·sign(p) (0 at 0) to v_params.
template <class T>
double exposure_regularizer(const Device& device, const T* params, double weight, T* v_params);

// Backends (exposure_cpu.cpp, exposure_cuda.cu).
template <class T>
void exposure_forward_cpu(size_t pixels, const T* params, const T* rgb, T* out);
template <class T>
void exposure_backward_cpu(size_t pixels, const T* params, const T* rgb, const T* v_out,
                           T* v_rgb, T* v_params);
template <class T>
void exposure_regularizer_cpu(const T* params, T weight, T* abs_terms, T* v_params);
#ifdef GSTRAIN_WITH_CUDA
void exposure_forward_cuda(const Device& device, size_t pixels, const float* params,
                           const float* rgb, float* out);
void exposure_backward_cuda(const Device& device, size_t pixels, const float* params,
                            const float* rgb, const float* v_out, float* v_rgb, float* v_params);
void exposure_regularizer_cuda(const Device& device, const float* params, float weight,
                               float* abs_terms, float* v_params);
#endif

}  // namespace gs
