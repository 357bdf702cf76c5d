// Split-learning-rate Adam: CPU pass and device dispatch.
#include "core/errors.h"
#include "optim/adam_split_impl.h"

namespace gs {

void adam_step_split_rows(const Device& device, ParamGroup& g, size_t head_floats,
                          double lr_head, int step, const AdamSettings& s) {
  if (g.count == 0) return;
  GS_CHECK(step >= 1 && g.row_size >= 1 && head_floats <= g.row_size && g.count % g.row_size == 0,
           "adam_step_split_rows: bad arguments for group '" + g.name + "'");
  GS_CHECK(g.params && g.grads && g.m && g.v, "adam_step_split_rows: null array");
  GS_CHECK(!g.skip_rows, "adam_step_split_rows: group '" + g.name + "' has a row mask (unsupported)");
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    detail::adam_split_cuda(device, g, head_floats, lr_head, step, s);
    return;
#else
    throw Error("Adam: gstrain was built without CUDA", "use device: cpu");
#endif
  }
  adam_passes::adam_split_pass<float>(device, g.count, g.params, g.grads, g.m, g.v, g.row_size,
                                      head_floats,
                                      adam_math::adam_coefficients<float>(lr_head, step, s),
                                      adam_math::adam_coefficients<float>(g.lr, step, s),
                                      s.zero_grad);
}

}  // namespace gs
