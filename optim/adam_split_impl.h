// The split-learning-rate Adam pass of the CUDA backend (see adam_split.h); the CPU runs the
// same per-element update row by row (adam_split_cpu.cpp).
#pragma once

#include "optim/adam_impl.h"
#include "optim/adam_split.h"

namespace gs::adam_passes {
inline namespace GS_ADAM_BACKEND_NS {

template <class T>
void adam_split_pass(const Device& device, size_t count, T* params, T* grads, T* m, T* v,
                     size_t row_size, size_t head_floats, adam_math::AdamCoefficients<T> head,
                     adam_math::AdamCoefficients<T> tail, bool zero_grad) {
  parallel_for(device, count, [=] GS_HD(size_t i) {
    const T g = grads[i];
    if (zero_grad) grads[i] = T(0);
    adam_math::adam_update(params[i], m[i], v[i], g, (i % row_size) < head_floats ? head : tail);
  });
}

}  // namespace GS_ADAM_BACKEND_NS
}  // namespace gs::adam_passes

namespace gs::detail {
void adam_split_cuda(const Device& device, ParamGroup& group, size_t head_floats,
                     double lr_head, int step, const AdamSettings& settings);
}  // namespace gs::detail
