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
                        T t, T* out) {
  GS_CHECK(enc.position_freqs >= 0 && enc.time_freqs >= 0, "field encoding: negative frequency count");
  if (n == 0) return;
  GS_CHECK(means && out, "encode_field_input: null pointer");
  if (use_cuda<T>(device, "encode_field_input")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value) encode_field_input_cuda(device, enc, means, n, t, out);
#endif
    return;
  }
  encode_field_input_cpu<T>(enc, means, n, t, out);
}

template <class T>
void apply_deformation_forward(const Device& device, size_t n, const T* means, const T* log_scales,
                               const T* quats, const T* deltas, T* means_out, T* log_scales_out,
                               T* quats_out) {
  if (n == 0) return;
  GS_CHECK(means && log_scales && quats && deltas && means_out && log_scales_out && quats_out,
           "apply_deformation_forward: null pointer");
  if (use_cuda<T>(device, "apply_deformation_forward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      apply_deformation_forward_cuda(device, n, means, log_scales, quats, deltas, means_out,
                                     log_scales_out, quats_out);
#endif
    return;
  }
  apply_deformation_forward_cpu<T>(n, means, log_scales, quats, deltas, means_out, log_scales_out,
                                   quats_out);
}

template <class T>
void apply_deformation_backward(const Device& device, size_t n, const T* log_scales,
                                const T* quats, const T* deltas, const T* v_means,
                                T* v_log_scales, T* v_quats, T* d_deltas) {
  if (n == 0) return;
  GS_CHECK(log_scales && quats && deltas && v_means && v_log_scales && v_quats && d_deltas,
           "apply_deformation_backward: null pointer");
  if (use_cuda<T>(device, "apply_deformation_backward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      apply_deformation_backward_cuda(device, n, log_scales, quats, deltas, v_means, v_log_scales,
                                      v_quats, d_deltas);
#endif
    return;
  }
  apply_deformation_backward_cpu<T>(n, log_scales, quats, deltas, v_means, v_log_scales, v_quats,
                                    d_deltas);
}

#define GS_INSTANTIATE_DEFORM_OPS(T)                                                            \
  template void encode_field_input<T>(const Device&, const FieldEncoding&, const T*, size_t, T, \
                                      T*);                                                      \
  template void apply_deformation_forward<T>(const Device&, size_t, const T*, const T*,         \
                                             const T*, const T*, T*, T*, T*);                   \
  template void apply_deformation_backward<T>(const Device&, size_t, const T*, const T*,        \
                                              const T*, const T*, T*, T*, T*);
GS_INSTANTIATE_DEFORM_OPS(float)
GS_INSTANTIATE_DEFORM_OPS(double)
#undef GS_INSTANTIATE_DEFORM_OPS

}  // namespace gs
