// Deformation ops host API: argument checks and dispatch to the CPU or CUDA backend.
#include "deform/deform_ops.h"

#include <string>
#include <type_traits>

#include "core/errors.h"

namespace gs {
namespace {

// True when the call should go to CUDA; throws for what CUDA cannot run.
template <class T>
bool use_cuda(const Device& device, const char* what) {
  if (!device.is_cuda()) return false;
#ifdef GSTRAIN_WITH_CUDA
  if (!std::is_same<T, float>::value)
    throw Error(std::string(what) + ": CUDA runs these ops in float only", "use the CPU for double");
  return true;
#else
  throw Error(std::string(what) + " on " + device.name() + ": gstrain was built without CUDA",
              "use the CPU device or rebuild with CUDA");
#endif
}

}  // namespace

template <class T>
void encode_field_input(const Device& device, const FieldEncoding& enc, const T* means, size_t n,
                        T t, T* out, const FieldInstances<T>* instances, int embedding_dim) {
  GS_CHECK(enc.position_freqs >= 0 && enc.time_freqs >= 0, "field encoding: negative frequency count");
  GS_CHECK(embedding_dim >= 0, "field encoding: negative embedding size");
  if (n == 0) return;
  GS_CHECK(means && out, "encode_field_input: null pointer");
  GS_CHECK(!instances || instances->ids, "encode_field_input: instances without ids");
  if (use_cuda<T>(device, "encode_field_input")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      encode_field_input_cuda(device, enc, means, n, t, out, instances, embedding_dim);
#endif
    return;
  }
  encode_field_input_cpu<T>(enc, means, n, t, out, instances, embedding_dim);
}

template <class T>
void apply_deformation_forward(const Device& device, size_t n, const T* means, const T* log_scales,
                               const T* quats, const T* deltas, T* means_out, T* log_scales_out,
                               T* quats_out, int delta_dim) {
  GS_CHECK(delta_dim == 7 || delta_dim == 10, "apply_deformation_forward: 7 or 10 deltas");
  if (n == 0) return;
  GS_CHECK(means && log_scales && quats && deltas && means_out && log_scales_out && quats_out,
           "apply_deformation_forward: null pointer");
  if (use_cuda<T>(device, "apply_deformation_forward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      apply_deformation_forward_cuda(device, n, means, log_scales, quats, deltas, means_out,
                                     log_scales_out, quats_out, delta_dim);
#endif
    return;
  }
  apply_deformation_forward_cpu<T>(n, means, log_scales, quats, deltas, means_out, log_scales_out,
                                   quats_out, delta_dim);
}

template <class T>
void apply_deformation_backward(const Device& device, size_t n, const T* log_scales,
                                const T* quats, const T* deltas, const T* v_means,
                                T* v_log_scales, T* v_quats, T* d_deltas, int delta_dim) {
  GS_CHECK(delta_dim == 7 || delta_dim == 10, "apply_deformation_backward: 7 or 10 deltas");
  if (n == 0) return;
  // Without δs the scales pass through: their gradient is not needed (may be null).
  GS_CHECK(quats && deltas && v_means && v_quats && d_deltas &&
               (delta_dim < 10 || (log_scales && v_log_scales)),
           "apply_deformation_backward: null pointer");
  if (use_cuda<T>(device, "apply_deformation_backward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      apply_deformation_backward_cuda(device, n, log_scales, quats, deltas, v_means, v_log_scales,
                                      v_quats, d_deltas, delta_dim);
#endif
    return;
  }
  apply_deformation_backward_cpu<T>(n, log_scales, quats, deltas, v_means, v_log_scales, v_quats,
                                    d_deltas, delta_dim);
}

template <class T>
void scatter_embedding_grads(const Device& device, size_t n, const int32_t* ids, size_t count,
                             const T* d_input, int ld, int col, int embedding_dim,
                             T* d_embeddings) {
  GS_CHECK(embedding_dim >= 0 && col >= 0 && col + embedding_dim <= ld,
           "scatter_embedding_grads: the embedding columns lie outside the rows");
  if (n == 0 || embedding_dim == 0 || count == 0) return;
  GS_CHECK(ids && d_input && d_embeddings, "scatter_embedding_grads: null pointer");
  if (use_cuda<T>(device, "scatter_embedding_grads")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      scatter_embedding_grads_cuda(device, n, ids, count, d_input, ld, col, embedding_dim,
                                   d_embeddings);
#endif
    return;
  }
  scatter_embedding_grads_cpu<T>(n, ids, count, d_input, ld, col, embedding_dim, d_embeddings);
}

#define GS_INSTANTIATE_DEFORM_OPS(T)                                                            \
  template void encode_field_input<T>(const Device&, const FieldEncoding&, const T*, size_t, T, \
                                      T*, const FieldInstances<T>*, int);                       \
  template void apply_deformation_forward<T>(const Device&, size_t, const T*, const T*,         \
                                             const T*, const T*, T*, T*, T*, int);              \
  template void apply_deformation_backward<T>(const Device&, size_t, const T*, const T*,        \
                                              const T*, const T*, T*, T*, T*, int);             \
  template void scatter_embedding_grads<T>(const Device&, size_t, const int32_t*, size_t,       \
                                           const T*, int, int, int, T*);
GS_INSTANTIATE_DEFORM_OPS(float)
GS_INSTANTIATE_DEFORM_OPS(double)
#undef GS_INSTANTIATE_DEFORM_OPS

}  // namespace gs
