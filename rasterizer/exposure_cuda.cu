// Exposure affine on CUDA: the shared bodies (exposure_impl.h). The parameter gradient is a sum
// of 12 values over every pixel: each thread sums its pixels in registers, warps reduce with
// shuffles, blocks in shared memory, and one atomic add per parameter and block reaches global
// memory.
#include "core/cuda_check.h"
#include "core/parallel_for.h"
#include "rasterizer/exposure.h"
#include "rasterizer/exposure_impl.h"

namespace gs {
namespace {

constexpr int kThreads = 256;
// Enough blocks to fill a GPU; few enough that their atomics do not matter.
constexpr size_t kMaxBlocks = 1024;

__global__ void __launch_bounds__(kThreads)
    exposure_backward_kernel(size_t pixels, exposure_impl::ExposureBackwardBody<float> body,
                             float* v_params) {
  __shared__ float block_sums[kExposureParams];
  if (threadIdx.x < kExposureParams) block_sums[threadIdx.x] = 0.f;
  __syncthreads();
  float acc[kExposureParams] = {};
  for (size_t p = size_t(blockIdx.x) * blockDim.x + threadIdx.x; p < pixels;
       p += size_t(blockDim.x) * gridDim.x) {
    float g[kExposureParams];
    body(p, g);
    for (int j = 0; j < kExposureParams; ++j) acc[j] += g[j];
  }
  // Every thread has left the loop, so all lanes take part in the shuffles.
  for (int j = 0; j < kExposureParams; ++j) {
    for (int off = 16; off > 0; off >>= 1) acc[j] += __shfl_xor_sync(0xffffffffu, acc[j], off);
    if ((threadIdx.x & 31u) == 0) atomicAdd(block_sums + j, acc[j]);
  }
  __syncthreads();
  if (threadIdx.x < kExposureParams) atomicAdd(v_params + threadIdx.x, block_sums[threadIdx.x]);
}

}  // namespace

void exposure_forward_cuda(const Device& device, size_t pixels, const float* params,
                           const float* rgb, float* out) {
  parallel_for(device, pixels, exposure_impl::ExposureForwardKernel<float>{params, rgb, out});
}

void exposure_backward_cuda(const Device& device, size_t pixels, const float* params,
                            const float* rgb, const float* v_out, float* v_rgb, float* v_params) {
  const exposure_impl::ExposureBackwardBody<float> body{params, rgb, v_out, v_rgb};
  if (!v_params) {
    parallel_for(device, pixels, exposure_impl::ExposureBackwardRgbKernel<float>{body});
    return;
  }
  GS_CHECK(device.is_cuda(), "CUDA exposure backward asked to run on " + device.name());
  const size_t blocks = (pixels + kThreads - 1) / kThreads;
  const unsigned grid = unsigned(blocks < kMaxBlocks ? blocks : kMaxBlocks);
  exposure_backward_kernel<<<grid, kThreads>>>(pixels, body, v_params);
  GS_CUDA_CHECK_LAUNCH();
}

void exposure_regularizer_cuda(const Device& device, const float* params, float weight,
                               float* abs_terms, float* v_params) {
  parallel_for(device, size_t(kExposureParams),
               exposure_impl::ExposureRegularizerKernel<float>{params, weight, abs_terms, v_params});
}

}  // namespace gs
