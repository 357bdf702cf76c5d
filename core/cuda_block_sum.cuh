// Σ fn(i) over [0, n) on CUDA, in double: a CUB block reduction with one atomic add per block
// into a one-double device slot, copied back (which also waits for the preceding kernels).
// The `Sum` policy of the loss passes (optim/loss_impl.h, trainer/street_losses_impl.h).
#pragma once

#include <cub/block/block_reduce.cuh>

#include "core/cuda_check.h"
#include "core/device.h"
#include "core/errors.h"

namespace gs::detail {

constexpr int kBlockSumThreads = 256;
// Enough blocks to fill any current GPU, few enough that the atomics do not matter.
constexpr size_t kMaxBlockSumBlocks = 1024;

template <class F>
__global__ void __launch_bounds__(kBlockSumThreads) block_sum_kernel(size_t n, F fn, double* out) {
  using BlockReduce = cub::BlockReduce<double, kBlockSumThreads>;
  __shared__ typename BlockReduce::TempStorage storage;
  double acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(blockDim.x) * gridDim.x)
    acc += fn(i);
  const double block_total = BlockReduce(storage).Sum(acc);
  if (threadIdx.x == 0) atomicAdd(out, block_total);
}

struct CudaSum {
  double* slot;

  template <class F>
  double operator()(const Device& device, size_t n, F fn) const {
    GS_CHECK(device.is_cuda(), "CUDA reduction asked to run on " + device.name());
    GS_CUDA_CHECK(cudaMemsetAsync(slot, 0, sizeof(double)));
    if (n > 0) {
      const size_t blocks = (n + kBlockSumThreads - 1) / kBlockSumThreads;
      const unsigned grid = unsigned(blocks < kMaxBlockSumBlocks ? blocks : kMaxBlockSumBlocks);
      block_sum_kernel<<<grid, kBlockSumThreads>>>(n, fn, slot);
      GS_CUDA_CHECK_LAUNCH();
    }
    double host = 0;
    GS_CUDA_CHECK(cudaMemcpy(&host, slot, sizeof(double), cudaMemcpyDeviceToHost));
    return host;
  }
};

}  // namespace gs::detail
