// Deformation ops on CUDA: the shared kernel bodies (deform_impl.h) under parallel_for.
#include "core/parallel_for.h"
#include "deform/deform_impl.h"
#include "deform/deform_ops.h"

namespace gs {

void encode_field_input_cuda(const Device& device, const FieldEncoding& enc, const float* means,
                             size_t n, float t, float* out) {
  parallel_for(device, n,
               deform_impl::EncodeKernel<float>{means, t, enc.position_freqs, enc.time_freqs,
                                                float(enc.scale), out});
}

void apply_deformation_forward_cuda(const Device& device, size_t n, const float* means,
                                    const float* log_scales, const float* quats,
                                    const float* deltas, float* means_out, float* log_scales_out,
                                    float* quats_out) {
  parallel_for(device, n,
               deform_impl::ApplyForwardKernel<float>{means, log_scales, quats, deltas, means_out,
                                                      log_scales_out, quats_out});
}

void apply_deformation_backward_cuda(const Device& device, size_t n, const float* log_scales,
                                     const float* quats, const float* deltas, const float* v_means,
                                     float* v_log_scales, float* v_quats, float* d_deltas) {
  parallel_for(device, n,
               deform_impl::ApplyBackwardKernel<float>{log_scales, quats, deltas, v_means,
                                                       v_log_scales, v_quats, d_deltas});
}

}  // namespace gs
