// The image loss on CUDA: the passes of loss_impl.h launched as kernels, summed by
// core/cuda_block_sum.cuh.
#include "core/buffer.h"
#include "core/cuda_block_sum.cuh"
#include "optim/loss_impl.h"

namespace gs::detail {

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
