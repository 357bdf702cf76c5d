// The street losses on CUDA: the passes of street_losses_impl.h launched as kernels, summed by
// core/cuda_block_sum.cuh (as the image loss).
#include "core/buffer.h"
#include "core/cuda_block_sum.cuh"
#include "trainer/street_losses.h"
#include "trainer/street_losses_impl.h"

namespace gs::detail {

double sky_opacity_loss_cuda(const Device& device, size_t pixels, const float* alpha,
                             const uint8_t* sky_mask, double weight, float* v_alpha) {
  Buffer<double> slot(device, 1, MemCategory::raster);
  const double scale = weight / double(pixels);
  return scale * street_loss_passes::sky_opacity_pass<float>(device, pixels, alpha, sky_mask,
                                                             float(scale), v_alpha,
                                                             CudaSum{slot.data()});
}

double lidar_depth_loss_cuda(const Device& device, size_t pixels, const float* depth,
                             const float* alpha, const float* lidar_depth, double weight,
                             float* v_depth, float* v_alpha, double alpha_eps) {
  Buffer<double> slot(device, 1, MemCategory::raster);
  const CudaSum sum{slot.data()};
  const double valid = street_loss_passes::lidar_valid_count<float>(device, pixels, lidar_depth, sum);
  if (valid == 0) return 0;
  const double scale = weight / valid;
  return scale * street_loss_passes::lidar_depth_pass<float>(device, pixels, depth, alpha,
                                                             lidar_depth, float(alpha_eps),
                                                             float(scale), v_depth, v_alpha, sum);
}

}  // namespace gs::detail
