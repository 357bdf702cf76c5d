// The image loss on CUDA: the passes of loss_impl.h launched as kernels; the only code of its
// own is the sum, a CUB block reduction in double with one atomic add per block.
#include <cub/block/block_reduce.cuh>

#include "core/buffer.h"
#include "core/cuda_check.h"
#include "optim/loss_impl.h"

namespace gs::detail {

namespace {

constexpr int kSumThreads = 256;
// Enough blocks to fill any current GPU, few enough that the atomics do not matter.
constexpr size_t kMaxSumBlocks = 1024;

template <class F>
__global__ void __launch_bounds__(kSumThreads) sum_kernel(size_t n, F fn, double* out) {
  using BlockReduce = cub::BlockReduce<double, kSumThreads>;
  __shared__ typename BlockReduce::TempStorage storage;
  double acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(blockDim.x) * gridDim.x)
    acc += fn(i);
  const double block_total = BlockReduce(storage).Sum(acc);
  if (threadIdx.x == 0) atomicAdd(out, block_total);
}

// The `Sum` policy of loss_impl.h: Σ fn(i) over [0, n) into a one-double device slot, then
// copied back (which also waits for the preceding kernels).
struct CudaSum {
  double* slot;

  template <class F>
  double operator()(const Device& device, size_t n, F fn) const {
    GS_CHECK(device.is_cuda(), "CUDA reduction asked to run on " + device.name());
    GS_CUDA_CHECK(cudaMemsetAsync(slot, 0, sizeof(double)));
    if (n > 0) {
      const size_t blocks = (n + kSumThreads - 1) / kSumThreads;
      const unsigned grid = unsigned(blocks < kMaxSumBlocks ? blocks : kMaxSumBlocks);
      sum_kernel<<<grid, kSumThreads>>>(n, fn, slot);
      GS_CUDA_CHECK_LAUNCH();
    }
    double host = 0;
    GS_CUDA_CHECK(cudaMemcpy(&host, slot, sizeof(double), cudaMemcpyDeviceToHost));
    return host;
  }
};

}  // namespace

LossResult image_loss_cuda(const Device& device, int width, int height, const float* rendered,
                           const float* target, float lambda_dssim, float* v_rendered,
                           LossWorkspace& workspace) {
  loss_passes::LossMaps<float> maps{};
  const int count = v_rendered ? LossWorkspace::kLossMaps : LossWorkspace::kMomentMaps;
  for (int k = 0; k < count; ++k) maps.map[k] = workspace.map(k);
  return loss_passes::loss_forward_backward<float>(device, width, height, rendered, target,
                                                   double(lambda_dssim), v_rendered, maps,
                                                   CudaSum{workspace.reduce_slot()});
}

double squared_error_sum_cuda(const Device& device, size_t n, const float* rendered,
                              const float* target) {
  Buffer<double> slot(device, 1, MemCategory::raster);
  return loss_passes::squared_diff_sum(device, n, rendered, target, CudaSum{slot.data()});
}

}  // namespace gs::detail
