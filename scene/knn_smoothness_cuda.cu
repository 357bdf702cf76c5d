// The kNN smoothness gradient on CUDA: the shared body (knn_smoothness_impl.h).
#include "core/parallel_for.h"
#include "scene/knn_smoothness.h"
#include "scene/knn_smoothness_impl.h"

namespace gs {

void add_smoothness_gradient_cuda(const Device& device, size_t n, const int32_t* offsets,
                                  const int32_t* indices, const float* values, int stride,
                                  int dims, float scale, float* grads, int grad_stride) {
  parallel_for(device, n,
               smooth_impl::SmoothnessKernel{offsets, indices, values, stride, dims, scale, grads,
                                             grad_stride});
}

}  // namespace gs
