// Adam written once for both backends: the per-element update (GS_HD, templated on the scalar
// so tests can run it in double) and the fused pass over a parameter group. Included by
// adam_cpu.cpp (OpenMP) and adam_cuda.cu (a kernel).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/device.h"
#include "core/hd.h"
#include "core/parallel_for.h"
#include "optim/adam.h"

namespace gs::adam_math {

GS_HD inline float sqrt_(float x) {
  return sqrtf(x);
}
GS_HD inline double sqrt_(double x) {
  return sqrt(x);
}

// The step's scalars, computed once on the host in double: the bias corrections fold into
// step_size = lr/(1−β1ᵗ) and inv_sqrt_bc2 = 1/√(1−β2ᵗ); 1−β is formed in double too (in float,
// 1 − 0.999f is off by 1.3e-5 relative).
template <class T>
struct AdamCoefficients {
  T beta1, beta2, eps;
  T one_minus_beta1, one_minus_beta2;
  T step_size;
  T inv_sqrt_bc2;
};

template <class T>
inline AdamCoefficients<T> adam_coefficients(double lr, int step, const AdamSettings& s) {
  const double bc1 = 1.0 - std::pow(s.beta1, step);
  const double bc2 = 1.0 - std::pow(s.beta2, step);
  AdamCoefficients<T> k;
  k.beta1 = T(s.beta1);
  k.beta2 = T(s.beta2);
  k.eps = T(s.eps);
  k.one_minus_beta1 = T(1.0 - s.beta1);
  k.one_minus_beta2 = T(1.0 - s.beta2);
  k.step_size = T(lr / bc1);
  k.inv_sqrt_bc2 = T(1.0 / std::sqrt(bc2));
  return k;
}

// One element: updates the moments and the parameter in place (ε added after the bias
// correction of √v, as torch does).
template <class T>
GS_HD inline void adam_update(T& param, T& m, T& v, T grad, const AdamCoefficients<T>& k) {
  m = k.beta1 * m + k.one_minus_beta1 * grad;
  v = k.beta2 * v + k.one_minus_beta2 * grad * grad;
  param -= k.step_size * m / (sqrt_(v) * k.inv_sqrt_bc2 + k.eps);
}

}  // namespace gs::adam_math

// parallel_for's body differs per backend: a backend-specific inline namespace keeps the two
// instantiations distinct symbols.
#if defined(__CUDACC__)
#define GS_ADAM_BACKEND_NS cuda_backend
#else
#define GS_ADAM_BACKEND_NS host_backend
#endif

namespace gs::adam_passes {
inline namespace GS_ADAM_BACKEND_NS {

// The fused pass: read g, update m, v and p, optionally zero g; one read and write of each
// array. Rows flagged in `skip_rows` keep their parameters and moments.
template <class T>
void adam_pass(const Device& device, size_t count, T* params, T* grads, T* m, T* v, size_t row_size,
               const uint8_t* skip_rows, adam_math::AdamCoefficients<T> k, bool zero_grad) {
  parallel_for(device, count, [=] GS_HD(size_t i) {
    const T g = grads[i];
    if (zero_grad) grads[i] = T(0);
    if (skip_rows && skip_rows[i / row_size]) return;
    adam_math::adam_update(params[i], m[i], v[i], g, k);
  });
}

}  // namespace GS_ADAM_BACKEND_NS
}  // namespace gs::adam_passes

// CUDA entry point (adam_cuda.cu), called by adam_step after validation.
namespace gs::detail {
void adam_step_cuda(const Device& device, ParamGroup& group, int step,
                    const AdamSettings& settings);
}  // namespace gs::detail
