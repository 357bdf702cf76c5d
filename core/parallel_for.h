// parallel_for(device, n, fn): runs fn(i) for i in [0, n). The same kernel body (a GS_HD
// lambda or functor in a *_impl.h) runs as an OpenMP loop when compiled by the host compiler
// (a *_cpu.cpp) and as a grid-stride CUDA kernel when compiled by nvcc (a *_cuda.cu).
// Each translation unit serves one backend: a .cpp refuses a CUDA device and vice versa.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"
#include "core/errors.h"
#include "core/hd.h"

#if defined(__CUDACC__)
#include "core/cuda_check.h"

namespace gs::detail {
template <class F>
__global__ void parallel_for_kernel(size_t n, F fn) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(blockDim.x) * gridDim.x)
    fn(i);
}
}  // namespace gs::detail
#endif

// Under nvcc, parallel_for (and the shared *_impl.h bodies that call it, via these macros) live
// in an inline namespace of their own. A .cpp and a .cu that instantiate it with the same functor
// type (ProjectKernel<float>, ShForwardKernel<float>, …) or include the same inline function
// (accumulate_densify_stats_impl, u8_to_float_impl) would otherwise emit two different bodies
// under one mangled name: an ODR violation where the linker keeps one of the weak copies, so
// wherever the call is not inlined (e.g. a -O0 build) one backend runs the other's loop.
// Host objects keep their symbols unchanged.
#if defined(__CUDACC__)
#define GS_BACKEND_NS_BEGIN inline namespace cuda_tu {
#define GS_BACKEND_NS_END }
#else
#define GS_BACKEND_NS_BEGIN
#define GS_BACKEND_NS_END
#endif

namespace gs {
GS_BACKEND_NS_BEGIN

template <class F>
void parallel_for(const Device& device, size_t n, F fn) {
  if (n == 0) return;
#if defined(__CUDACC__)
  GS_CHECK(device.is_cuda(), "CUDA translation unit asked to run on " + device.name());
  constexpr int kThreads = 256;
  const size_t blocks = (n + kThreads - 1) / kThreads;
  const unsigned grid = static_cast<unsigned>(blocks < 65535u * 16u ? blocks : 65535u * 16u);
  detail::parallel_for_kernel<<<grid, kThreads>>>(n, fn);
  GS_CUDA_CHECK_LAUNCH();
#else
  GS_CHECK(device.is_cpu(), "host translation unit asked to run on " + device.name());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) fn(static_cast<size_t>(i));
#endif
}

GS_BACKEND_NS_END
}  // namespace gs
