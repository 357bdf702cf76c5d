// Exposure affine host API: argument checks and dispatch to the CPU or CUDA backend.
#include "rasterizer/exposure.h"

#include <string>
#include <type_traits>
#include <vector>

#include "core/buffer.h"
#include "core/backend_dispatch.h"
#include "core/errors.h"

namespace gs {
template <class T>
void exposure_forward(const Device& device, size_t pixels, const T* params, const T* rgb, T* out) {
  if (pixels == 0) return;
  GS_CHECK(params && rgb && out, "exposure_forward: null pointer");
  GS_CHECK(rgb != out, "exposure_forward: out may not alias rgb (the backward reads rgb)");
  if (runs_on_cuda<T>(device, "exposure_forward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      exposure_forward_cuda(device, pixels, params, rgb, out);
#endif
    return;
  }
  exposure_forward_cpu<T>(pixels, params, rgb, out);
}

template <class T>
void exposure_backward(const Device& device, size_t pixels, const T* params, const T* rgb,
                       const T* v_out, T* v_rgb, T* v_params) {
  if (pixels == 0 || (!v_rgb && !v_params)) return;
  GS_CHECK(params && rgb && v_out, "exposure_backward: null pointer");
  if (runs_on_cuda<T>(device, "exposure_backward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      exposure_backward_cuda(device, pixels, params, rgb, v_out, v_rgb, v_params);
#endif
    return;
  }
  exposure_backward_cpu<T>(pixels, params, rgb, v_out, v_rgb, v_params);
}

template <class T>
double exposure_regularizer(const Device& device, const T* params, double weight, T* v_params) {
  GS_CHECK(params, "exposure_regularizer: null parameters");
  GS_CHECK(weight >= 0, "exposure_regularizer: negative weight " + std::to_string(weight));
  // The 12 |p| terms come back to the host to be summed: too few to be worth a device reduction.
  Buffer<T> abs_terms(device, kExposureParams, MemCategory::other);
  if (runs_on_cuda<T>(device, "exposure_regularizer")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      exposure_regularizer_cuda(device, params, float(weight), abs_terms.data(), v_params);
#endif
  } else {
    exposure_regularizer_cpu<T>(params, T(weight), abs_terms.data(), v_params);
  }
  double sum = 0;
  for (const T a : abs_terms.to_host()) sum += double(a);
  return weight * sum;
}

#define GS_INSTANTIATE_EXPOSURE(T)                                                              \
  template void exposure_forward<T>(const Device&, size_t, const T*, const T*, T*);             \
  template void exposure_backward<T>(const Device&, size_t, const T*, const T*, const T*, T*,   \
                                     T*);                                                       \
  template double exposure_regularizer<T>(const Device&, const T*, double, T*);
GS_INSTANTIATE_EXPOSURE(float)
GS_INSTANTIATE_EXPOSURE(double)
#undef GS_INSTANTIATE_EXPOSURE

}  // namespace gs
