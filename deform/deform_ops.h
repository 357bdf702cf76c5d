// The deformation field's per-Gaussian steps on either device (kernel bodies in deform_impl.h):
// building the network input rows (optionally conditioned on instances), applying the network's
// output to the Gaussians, and returning the input gradient's embedding columns to the instances.
// T is float or double on the CPU (double for the gradient checks), float on CUDA.
#pragma once

#include <cstddef>
#include <cstdint>

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

// The per-instance conditioning of OmniRe's deformable nodes (one network for all instances):
// each Gaussian's mean is scaled by its instance's inverse box size before the encoding, and the
// instance's embedding is appended to the row. Device pointers; a Gaussian whose id is outside
// [0, count) gets its mean unscaled and a zero embedding.
template <class T>
struct FieldInstances {
  const int32_t* ids = nullptr;     // n (the Gaussians' rows), the instance of each Gaussian
  size_t count = 0;                 // K instances
  const T* inv_box_size = nullptr;  // K × 3 (null: means unscaled)
  const T* embeddings = nullptr;    // K × E (null: zero embeddings)
  T* d_embeddings = nullptr;        // K × E, ∂L/∂embeddings accumulated by backward (null: none)
};

// out (n × (enc.dim() + embedding_dim)) = [γ(means_i), γ(t)] per row, or with instances
// [γ(means_i ⊙ inv_box_size[id_i]), γ(t), embeddings[id_i]] (instances->ids point at row 0).
// Without instances the embedding columns are zero.
template <class T>
void encode_field_input(const Device& device, const FieldEncoding& enc, const T* means, size_t n,
                        T t, T* out, const FieldInstances<T>* instances = nullptr,
                        int embedding_dim = 0);

// The number of deltas per Gaussian: δx 3, δr 4 and, when the scales deform, δs 3.
inline int field_delta_dim(bool deform_scales) { return deform_scales ? 10 : 7; }

// Deformed Gaussians from canonical ones and deltas (n × delta_dim: δx 3, δr 4[, δs 3]):
// mean + δx, q/|q| + δr, log|exp(log_scale) + δs| (delta_dim 10) or the log-scale copied
// (delta_dim 7). Outputs may not alias inputs.
template <class T>
void apply_deformation_forward(const Device& device, size_t n, const T* means, const T* log_scales,
                               const T* quats, const T* deltas, T* means_out, T* log_scales_out,
                               T* quats_out, int delta_dim = 10);

// Backward: v_means is ∂L/∂(deformed mean) (= ∂L/∂(canonical mean)); v_log_scales and v_quats
// hold ∂L/∂(deformed) on entry and ∂L/∂(canonical) on return (v_log_scales is left as it is
// when delta_dim is 7: the scale passes through, and log_scales and v_log_scales may then be
// null); d_deltas (n × delta_dim) is written.
template <class T>
void apply_deformation_backward(const Device& device, size_t n, const T* log_scales,
                                const T* quats, const T* deltas, const T* v_means,
                                T* v_log_scales, T* v_quats, T* d_deltas, int delta_dim = 10);

// The embedding columns of the network input's gradient back to the instances:
// d_embeddings[ids[i]] += d_input[i · ld + col .. + embedding_dim) for ids[i] in [0, count).
// The CPU sums in row order (deterministic); CUDA with atomics.
template <class T>
void scatter_embedding_grads(const Device& device, size_t n, const int32_t* ids, size_t count,
                             const T* d_input, int ld, int col, int embedding_dim,
                             T* d_embeddings);

// Backends (deform_ops_cpu.cpp, deform_ops_cuda.cu).
template <class T>
void encode_field_input_cpu(const FieldEncoding& enc, const T* means, size_t n, T t, T* out,
                            const FieldInstances<T>* instances, int embedding_dim);
template <class T>
void apply_deformation_forward_cpu(size_t n, const T* means, const T* log_scales, const T* quats,
                                   const T* deltas, T* means_out, T* log_scales_out, T* quats_out,
                                   int delta_dim);
template <class T>
void apply_deformation_backward_cpu(size_t n, const T* log_scales, const T* quats, const T* deltas,
                                    const T* v_means, T* v_log_scales, T* v_quats, T* d_deltas,
                                    int delta_dim);
template <class T>
void scatter_embedding_grads_cpu(size_t n, const int32_t* ids, size_t count, const T* d_input,
                                 int ld, int col, int embedding_dim, T* d_embeddings);
#ifdef GSTRAIN_WITH_CUDA
void encode_field_input_cuda(const Device& device, const FieldEncoding& enc, const float* means,
                             size_t n, float t, float* out, const FieldInstances<float>* instances,
                             int embedding_dim);
void apply_deformation_forward_cuda(const Device& device, size_t n, const float* means,
                                    const float* log_scales, const float* quats,
                                    const float* deltas, float* means_out, float* log_scales_out,
                                    float* quats_out, int delta_dim);
void apply_deformation_backward_cuda(const Device& device, size_t n, const float* log_scales,
                                     const float* quats, const float* deltas, const float* v_means,
                                     float* v_log_scales, float* v_quats, float* d_deltas,
                                     int delta_dim);
void scatter_embedding_grads_cuda(const Device& device, size_t n, const int32_t* ids,
                                  size_t count, const float* d_input, int ld, int col,
                                  int embedding_dim, float* d_embeddings);
#endif

}  // namespace gs
