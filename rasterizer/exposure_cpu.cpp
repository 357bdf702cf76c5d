// Exposure affine on the CPU: the shared bodies (exposure_impl.h) under parallel_for, and the
// parameter gradient summed over fixed chunks of pixels added in chunk order, so the result is
// bit-identical for any thread count.
#include <algorithm>
#include <vector>

#include "core/parallel_for.h"
#include "rasterizer/exposure.h"
#include "rasterizer/exposure_impl.h"

namespace gs {

template <class T>
void exposure_forward_cpu(size_t pixels, const T* params, const T* rgb, T* out) {
  parallel_for(Device::cpu(), pixels, exposure_impl::ExposureForwardKernel<T>{params, rgb, out});
}

template <class T>
void exposure_backward_cpu(size_t pixels, const T* params, const T* rgb, const T* v_out,
                           T* v_rgb, T* v_params) {
  const exposure_impl::ExposureBackwardBody<T> body{params, rgb, v_out, v_rgb};
  if (!v_params) {
    parallel_for(Device::cpu(), pixels, exposure_impl::ExposureBackwardRgbKernel<T>{body});
    return;
  }
  // The chunking depends on the pixel count only; partial sums are in double.
  constexpr size_t kMinChunk = 16384, kMaxChunks = 64;
  const size_t chunk = std::max(kMinChunk, (pixels + kMaxChunks - 1) / kMaxChunks);
  const size_t chunks = (pixels + chunk - 1) / chunk;
  std::vector<double> partial(chunks * kExposureParams, 0.0);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < int64_t(chunks); ++c) {
    double* sums = partial.data() + size_t(c) * kExposureParams;
    const size_t end = std::min(pixels, size_t(c + 1) * chunk);
    for (size_t p = size_t(c) * chunk; p < end; ++p) {
      T g[kExposureParams];
      body(p, g);
      for (int j = 0; j < kExposureParams; ++j) sums[j] += double(g[j]);
    }
  }
  for (int j = 0; j < kExposureParams; ++j) {
    double total = 0;
    for (size_t c = 0; c < chunks; ++c) total += partial[c * kExposureParams + size_t(j)];
    v_params[j] += T(total);
  }
}

template <class T>
void exposure_regularizer_cpu(const T* params, T weight, T* abs_terms, T* v_params) {
  const exposure_impl::ExposureRegularizerKernel<T> body{params, weight, abs_terms, v_params};
  for (size_t j = 0; j < size_t(kExposureParams); ++j) body(j);
}

#define GS_INSTANTIATE_EXPOSURE_CPU(T)                                                        \
  template void exposure_forward_cpu<T>(size_t, const T*, const T*, T*);                      \
  template void exposure_backward_cpu<T>(size_t, const T*, const T*, const T*, T*, T*);       \
  template void exposure_regularizer_cpu<T>(const T*, T, T*, T*);
GS_INSTANTIATE_EXPOSURE_CPU(float)
GS_INSTANTIATE_EXPOSURE_CPU(double)
#undef GS_INSTANTIATE_EXPOSURE_CPU

}  // namespace gs
