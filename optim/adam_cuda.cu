// Adam on CUDA: the fused pass of adam_impl.h launched as one kernel per parameter group.
#include "optim/adam_impl.h"

namespace gs::detail {

void adam_step_cuda(const Device& device, ParamGroup& group, int step,
                    const AdamSettings& settings) {
  adam_passes::adam_pass<float>(device, group.count, group.params, group.grads, group.m, group.v,
                                group.row_size, group.skip_rows,
                                adam_math::adam_coefficients<float>(group.lr, step, settings),
                                settings.zero_grad);
}

}  // namespace gs::detail
