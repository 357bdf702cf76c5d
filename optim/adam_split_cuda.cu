// Split-learning-rate Adam: the CUDA pass (same body as the CPU one).
#include "optim/adam_split_impl.h"

namespace gs::detail {

void adam_split_cuda(const Device& device, ParamGroup& g, size_t head_floats, double lr_head,
                     int step, const AdamSettings& s) {
  adam_passes::adam_split_pass<float>(device, g.count, g.params, g.grads, g.m, g.v, g.row_size,
                                      head_floats,
                                      adam_math::adam_coefficients<float>(lr_head, step, s),
                                      adam_math::adam_coefficients<float>(g.lr, step, s),
                                      s.zero_grad);
}

}  // namespace gs::detail
