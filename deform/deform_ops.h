// The deformation field's per-Gaussian steps on either device (kernel bodies in deform_impl.h):
// building the network input rows and applying the network's output to the Gaussians.
// T is float or double on the CPU (double for the gradient checks), float on CUDA.
#pragma once

#include <cstddef>

#include "core/device.h"

namespace gs {

// The network input's encoding: γ(x) with `position_freqs` frequencies, γ(t) with
// `time_freqs`, both including the raw value, frequencies 2^k·scale.
struct FieldEncoding {
  int position_freqs = 10;
  int time_freqs = 6;
  // Deformable-3DGS's embedder uses 2^k without NeRF's π, and its L = 10 / 6 were tuned with
  // that; so do we.
  double scale = 1.0;
  int dim() const { return 3 + 6 * position_freqs + 1 + 2 * time_freqs; }
};

// out (n × enc.dim()) = [γ(means_i), γ(t)] per row.
template <class T>
void encode_field_input(const Device& device, const FieldEncoding& enc, const T* means, size_t n,
                        T t, T* out);

// Deformed Gaussians from canonical ones and deltas (n × 10: δx 3, δr 4, δs 3):
// mean + δx, q/|q| + δr, log|exp(log_scale) + δs|. Outputs may not alias inputs.
template <class T>
void apply_deformation_forward(const Device& device, size_t n, const T* means, const T* log_scales,
                               const T* quats, const T* deltas, T* means_out, T* log_scales_out,
                               T* quats_out);

// Backward: v_means is ∂L/∂(deformed mean) (= ∂L/∂(canonical mean)); v_log_scales and v_quats
// hold ∂L/∂(deformed) on entry and ∂L/∂(canonical) on return; d_deltas (n × 10) is written.
template <class T>
void apply_deformation_backward(const Device& device, size_t n, const T* log_scales,
                                const T* quats, const T* deltas, const T* v_means,
                                T* v_log_scales, T* v_quats, T* d_deltas);

// Backends (deform_ops_cpu.cpp, deform_ops_cuda.cu).
template <class T>
void encode_field_input_cpu(const FieldEncoding& enc, const T* means, size_t n, T t, T* out);
template <class T>
void apply_deformation_forward_cpu(size_t n, const T* means, const T* log_scales, const T* quats,
                                   const T* deltas, T* means_out, T* log_scales_out, T* quats_out);
template <class T>
void apply_deformation_backward_cpu(size_t n, const T* log_scales, const T* quats, const T* deltas,
                                    const T* v_means, T* v_log_scales, T* v_quats, T* d_deltas);
#ifdef GSTRAIN_WITH_CUDA
void encode_field_input_cuda(const Device& device, const FieldEncoding& enc, const float* means,
                             size_t n, float t, float* out);
void apply_deformation_forward_cuda(const Device& device, size_t n, const float* means,
                                    const float* log_scales, const float* quats,
                                    const float* deltas, float* means_out, float* log_scales_out,
                                    float* quats_out);
void apply_deformation_backward_cuda(const Device& device, size_t n, const float* log_scales,
                                     const float* quats, const float* deltas, const float* v_means,
                                     float* v_log_scales, float* v_quats, float* d_deltas);
#endif

}  // namespace gs
