// The out-of-bound loss's gradient on CUDA: the shared body (box_bound_impl.h).
#include "core/parallel_for.h"
#include "scene/box_bound.h"
#include "scene/box_bound_impl.h"

namespace gs {

void add_out_of_bound_gradient_cuda(const Device& device, size_t n, const float* means,
                                    const int32_t* tags, const float* inv_box_size, size_t instances,
                                    float scale,
                                    float* grads) {
  parallel_for(device, n,
               box_bound_impl::OutOfBoundKernel{means, tags, inv_box_size, instances, scale, grads});
}

}  // namespace gs
