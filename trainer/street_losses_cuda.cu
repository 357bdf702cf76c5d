// The street losses on CUDA: the passes of street_losses_impl.h launched as kernels. The only
// code of its own is the sum, a CUB block reduction in double with one atomic add per block
// (the same scheme as the image loss's, loss_cuda.cu).
#include <cub/block/block_reduce.cuh>

#include "core/buffer.h"
#include "core/cuda_check.h"
#include "trainer/street_losses.h"
#include "trainer/street_losses_impl.h"

namespace gs::detail {
namespace {

constexpr int kSumThreads = 256;
constexpr size_t kMaxSumBlocks = 1024;

template <class F>
__global__ void __launch_bounds__(kSumThreads) street_sum_kernel(size_t n, F fn, double* out) {
  using BlockReduce = cub::BlockReduce<double, kSumThreads>;
  __shared__ typename BlockReduce::TempStorage storage;
  double acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(blockDim.x) * gridDim.x)
    acc += fn(i);
  const double block_total = BlockReduce(storage).Sum(acc);
  if (threadIdx.x == 0) atomicAdd(out, block_total);
}

// Σ fn(i) into a one-double device slot, copied back (which also waits for the kernel).
struct StreetCudaSum {
  double* slot;

  template <class F>
  double operator()(const Device& device, size_t n, F fn) const {
    GS_CHECK(device.is_cuda(), "CUDA reduction asked to run on " + device.name());
    GS_CUDA_CHECK(cudaMemsetAsync(slot, 0, sizeof(double)));
    if (n > 0) {
      const size_t blocks = (n + kSumThreads - 1) / kSumThreads;
      const unsigned grid = unsigned(blocks < kMaxSumBlocks ? blocks : kMaxSumBlocks);
      street_sum_kernel<<<grid, kSumThreads>>>(n, fn, slot);
      GS_CUDA_CHECK_LAUNCH();
    }
    double host = 0;
    GS_CUDA_CHECK(cudaMemcpy(&host, slot, sizeof(double), cudaMemcpyDeviceToHost));
    return host;
  }
};

}  // namespace

double sky_opacity_loss_cuda(const Device& device, size_t pixels, const float* alpha,
                             const uint8_t* sky_mask, double weight, float* v_alpha) {
  Buffer<double> slot(device, 1, MemCategory::raster);
  const double scale = weight / double(pixels);
  return scale * street_loss_passes::sky_opacity_pass<float>(device, pixels, alpha, sky_mask,
                                                             float(scale), v_alpha,
                                                             StreetCudaSum{slot.data()});
}

double lidar_depth_loss_cuda(const Device& device, size_t pixels, const float* depth,
                             const float* alpha, const float* lidar_depth, double weight,
                             float* v_depth, float* v_alpha, double alpha_eps) {
  Buffer<double> slot(device, 1, MemCategory::raster);
  const StreetCudaSum sum{slot.data()};
  const double valid = street_loss_passes::lidar_valid_count<float>(device, pixels, lidar_depth, sum);
  if (valid == 0) return 0;
  const double scale = weight / valid;
  return scale * street_loss_passes::lidar_depth_pass<float>(device, pixels, depth, alpha,
                                                             lidar_depth, float(alpha_eps),
                                                             float(scale), v_depth, v_alpha, sum);
}

}  // namespace gs::detail
