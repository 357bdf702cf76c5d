// The sharp-shape regulariser's gradient on CUDA: the shared body (sharp_shape_impl.h).
#include "core/parallel_for.h"
#include "scene/sharp_shape.h"
#include "scene/sharp_shape_impl.h"

namespace gs {

void add_sharp_shape_gradient_cuda(const Device& device, size_t n, const float* log_scales,
                                   float limit, float scale, float* grads) {
  parallel_for(device, n, sharp_shape_impl::SharpShapeKernel{log_scales, limit, scale, grads});
}

void add_max_scale_square_gradient_cuda(const Device& device, size_t n, const float* log_scales,
                                        float scale, float* grads) {
  parallel_for(device, n, sharp_shape_impl::MaxScaleSquareKernel{log_scales, scale, grads});
}

}  // namespace gs
