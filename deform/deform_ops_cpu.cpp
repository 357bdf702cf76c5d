// Deformation ops on the CPU: the shared kernel bodies (deform_impl.h) under parallel_for.
#include "core/parallel_for.h"
#include "deform/deform_impl.h"
#include "deform/deform_ops.h"

namespace gs {

template <class T>
void encode_field_input_cpu(const FieldEncoding& enc, const T* means, size_t n, T t, T* out) {
  parallel_for(Device::cpu(), n,
               deform_impl::EncodeKernel<T>{means, t, enc.position_freqs, enc.time_freqs,
                                            T(enc.scale), out});
}

template <class T>
void apply_deformation_forward_cpu(size_t n, const T* means, const T* log_scales, const T* quats,
                                   const T* deltas, T* means_out, T* log_scales_out, T* quats_out) {
  parallel_for(Device::cpu(), n,
               deform_impl::ApplyForwardKernel<T>{means, log_scales, quats, deltas, means_out,
                                                  log_scales_out, quats_out});
}

template <class T>
void apply_deformation_backward_cpu(size_t n, const T* log_scales, const T* quats, const T* deltas,
                                    const T* v_means, T* v_log_scales, T* v_quats, T* d_deltas) {
  parallel_for(Device::cpu(), n,
               deform_impl::ApplyBackwardKernel<T>{log_scales, quats, deltas, v_means,
                                                   v_log_scales, v_quats, d_deltas});
}

#define GS_INSTANTIATE_DEFORM_CPU(T)                                                         \
  template void encode_field_input_cpu<T>(const FieldEncoding&, const T*, size_t, T, T*);    \
  template void apply_deformation_forward_cpu<T>(size_t, const T*, const T*, const T*,       \
                                                 const T*, T*, T*, T*);                      \
  template void apply_deformation_backward_cpu<T>(size_t, const T*, const T*, const T*,      \
                                                  const T*, T*, T*, T*);
GS_INSTANTIATE_DEFORM_CPU(float)
GS_INSTANTIATE_DEFORM_CPU(double)
#undef GS_INSTANTIATE_DEFORM_CPU

}  // namespace gs
