// Split-learning-rate Adam: CPU pass and device dispatch.
#include "core/errors.h"
#include <cstdint>

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
  // Rows, then the head and the tail of each row as two plain loops: the same per-element
  // update as the CUDA pass (adam_split_pass), without its integer modulo per element, which
  // kept the loop from vectorising (8 % of a CPU street step at SH 3).
  const auto head = adam_math::adam_coefficients<float>(lr_head, step, s);
  const auto tail = adam_math::adam_coefficients<float>(g.lr, step, s);
  const size_t rows = g.count / g.row_size, row_size = g.row_size;
  float *params = g.params, *grads = g.grads, *m = g.m, *v = g.v;
  const bool zero_grad = s.zero_grad;
  auto update = [&](size_t begin, size_t end, const adam_math::AdamCoefficients<float>& k) {
    for (size_t i = begin; i < end; ++i) {
      const float grad = grads[i];
      if (zero_grad) grads[i] = 0.f;
      adam_math::adam_update(params[i], m[i], v[i], grad, k);
    }
  };
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) {
    const size_t base = size_t(r) * row_size;
    update(base, base + head_floats, head);
    update(base + head_floats, base + row_size, tail);
  }
}

}  // namespace gs
