// Deformation ops on the CPU: the shared kernel bodies (deform_impl.h) under parallel_for; the
// embedding-gradient scatter is a serial loop (few instances share many rows: a fixed order
// keeps the sums bit-reproducible whatever the thread count).
#include "core/parallel_for.h"
#include "deform/deform_impl.h"
#include "deform/deform_ops.h"

namespace gs {

template <class T>
void encode_field_input_cpu(const FieldEncoding& enc, const T* means, size_t n, T t, T* out,
                            const FieldInstances<T>* instances, int embedding_dim) {
  deform_impl::EncodeKernel<T> k{means, t, enc.position_freqs, enc.time_freqs, T(enc.scale), out,
                                 embedding_dim, nullptr, 0, nullptr, nullptr};
  if (instances) {
    k.ids = instances->ids;
    k.instance_count = instances->count;
    k.inv_box_size = instances->inv_box_size;
    k.embeddings = instances->embeddings;
  }
  parallel_for(Device::cpu(), n, k);
}

template <class T>
void apply_deformation_forward_cpu(size_t n, const T* means, const T* log_scales, const T* quats,
                                   const T* deltas, T* means_out, T* log_scales_out, T* quats_out,
                                   int delta_dim) {
  parallel_for(Device::cpu(), n,
               deform_impl::ApplyForwardKernel<T>{means, log_scales, quats, deltas, means_out,
                                                  log_scales_out, quats_out, delta_dim});
}

template <class T>
void apply_deformation_backward_cpu(size_t n, const T* log_scales, const T* quats, const T* deltas,
                                    const T* v_means, T* v_log_scales, T* v_quats, T* d_deltas,
                                    int delta_dim) {
  parallel_for(Device::cpu(), n,
               deform_impl::ApplyBackwardKernel<T>{log_scales, quats, deltas, v_means,
                                                   v_log_scales, v_quats, d_deltas, delta_dim});
}

template <class T>
void scatter_embedding_grads_cpu(size_t n, const int32_t* ids, size_t count, const T* d_input,
                                 int ld, int col, int embedding_dim, T* d_embeddings) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || size_t(id) >= count) continue;
    const T* g = d_input + i * size_t(ld) + size_t(col);
    T* dst = d_embeddings + size_t(id) * size_t(embedding_dim);
    for (int e = 0; e < embedding_dim; ++e) dst[e] += g[e];
  }
}

#define GS_INSTANTIATE_DEFORM_CPU(T)                                                          \
  template void encode_field_input_cpu<T>(const FieldEncoding&, const T*, size_t, T, T*,      \
                                          const FieldInstances<T>*, int);                     \
  template void apply_deformation_forward_cpu<T>(size_t, const T*, const T*, const T*,        \
                                                 const T*, T*, T*, T*, int);                  \
  template void apply_deformation_backward_cpu<T>(size_t, const T*, const T*, const T*,       \
                                                  const T*, T*, T*, T*, int);                 \
  template void scatter_embedding_grads_cpu<T>(size_t, const int32_t*, size_t, const T*, int, \
                                               int, int, T*);
GS_INSTANTIATE_DEFORM_CPU(float)
GS_INSTANTIATE_DEFORM_CPU(double)
#undef GS_INSTANTIATE_DEFORM_CPU

}  // namespace gs
