// The Deformable-3DGS deformation field F(γ(sg(x)), γ(t)) → (δx, δr, δs), applied to a node's
// canonical Gaussians at one time t per view.
//
// OmniRe's deformable nodes use the same field with two options (DeformationFieldConfig):
// `embedding_dim` > 0 conditions the network on a per-instance embedding, F(γ(sg(x ⊙ 1/box)),
// γ(t), e_k) (FieldInstances, deform_ops.h; the backward then also accumulates ∂L/∂e_k), and
// `deform_scales` = false drops the δs head (deltas are n × 7 and scales pass through).
//
// Bounded activation memory: the MLP runs over the Gaussians in chunks of `chunk_rows`. When
// all Gaussians fit in one chunk, the forward keeps its activations for the backward; otherwise
// the forward keeps only the deltas (n × 10 or 7) and the backward recomputes each chunk's
// forward just before back-propagating it. Activation memory is therefore chunk_rows × (per-row
// bytes), whatever n is; the price of recomputation is one extra MLP forward per step.
//
// Everything here (weights, Adam moments, deltas, deformed copies, the chunk workspace) lives
// on the field's device in MemCategory::mlp buffers, allocated once: per-Gaussian buffers at
// the node's capacity, the workspace at the chunk size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/buffer.h"
#include "core/device.h"
#include "deform/deform_ops.h"
#include "deform/mlp.h"

namespace gs {

struct DeformationFieldConfig {
  int depth = 8;        // hidden layers
  int width = 256;
  int skip_after = 4;   // 0-based hidden layer after which the input is re-concatenated; -1: none
  FieldEncoding encoding;
  uint64_t seed = 0;
  bool zero_init_heads = true;  // identity deformation when the field switches on
  // Per-instance embedding appended to the network input (OmniRe: 16); 0: none.
  int embedding_dim = 0;
  // The δs head (Deformable-3DGS); OmniRe's deformable nodes deform means and rotations only.
  bool deform_scales = true;
  int input_dim() const { return encoding.dim() + embedding_dim; }
  int delta_dim() const { return field_delta_dim(deform_scales); }
};

template <class T>
class DeformationField {
 public:
  // capacity: the most Gaussians the field will deform; chunk_rows: Gaussians per MLP chunk.
  DeformationField(const DeformationFieldConfig& config, const Device& device, size_t capacity,
                   size_t chunk_rows);

  const DeformationFieldConfig& config() const { return config_; }
  const Device& device() const { return mlp_.device(); }
  size_t capacity() const { return capacity_; }
  size_t chunk_rows() const { return chunk_rows_; }
  Mlp<T>& mlp() { return mlp_; }
  const Mlp<T>& mlp() const { return mlp_; }
  Buffer<T>& adam_m() { return adam_m_; }
  Buffer<T>& adam_v() { return adam_v_; }

  // Deforms the first n canonical Gaussians to time t: fills deformed_means/log_scales/quats.
  // `instances` (ids for the n Gaussians) conditions the network when embedding_dim > 0 (null:
  // unscaled means and zero embeddings).
  void forward(const T* means, const T* log_scales, const T* quats, size_t n, T t,
               const FieldInstances<T>* instances = nullptr);
  // After forward with the same inputs: accumulates the MLP's parameter gradients (mlp().grads())
  // and maps v_log_scales and v_quats (in: ∂L/∂deformed) to ∂L/∂canonical in place. v_means
  // (∂L/∂deformed mean) is also ∂L/∂canonical mean and is only read. Without δs the scales pass
  // through: v_log_scales is not touched (and may be null). With instances->d_embeddings,
  // ∂L/∂embeddings is accumulated there.
  void backward(const T* means, const T* log_scales, const T* quats, size_t n, T t,
                const T* v_means, T* v_log_scales, T* v_quats,
                const FieldInstances<T>* instances = nullptr);

  const T* deformed_means() const { return means_.data(); }
  const T* deformed_log_scales() const { return log_scales_.data(); }
  const T* deformed_quats() const { return quats_.data(); }
  const T* deltas() const { return deltas_.data(); }  // n × delta_dim of the last forward

  // How many chunk forwards the last backward recomputed (0 when activations were kept).
  size_t recomputed_chunks() const { return recomputed_chunks_; }

  // Bytes by role, for the memory model and memory.jsonl.
  size_t state_bytes() const;        // weights, gradients, Adam m and v
  size_t per_gaussian_bytes() const; // deltas, their gradients, deformed copies (at capacity)
  // Encoded input + MLP workspace of one chunk (+ the input's gradient with embeddings).
  size_t activation_bytes() const;
  // The device's linalg state (CUDA: cuBLAS workspace, kLinalgCudaContextBytes; CPU: 0). It is
  // created with the field and shared by every field on the device and thread.
  size_t context_bytes() const { return context_bytes_; }
  size_t bytes() const {
    return state_bytes() + per_gaussian_bytes() + activation_bytes() + context_bytes();
  }

  // What the same quantities cost before constructing one (the memory model must agree).
  static size_t per_gaussian_bytes_for(const DeformationFieldConfig& config = {});  // per Gaussian
  static size_t activation_bytes_per_row(const DeformationFieldConfig& config);

 private:
  static MlpConfig mlp_config(const DeformationFieldConfig& config);
  // Encodes chunk [begin, begin+rows) and runs the MLP forward over it into deltas_.
  void forward_chunk(const T* means, size_t begin, size_t rows, T t,
                     const FieldInstances<T>* instances);
  // Back-propagates the chunk whose activations the workspace holds (d_deltas_ rows from
  // `begin`), and scatters its input gradient's embedding columns to the instances.
  void backward_chunk(size_t begin, size_t rows, const FieldInstances<T>* instances);

  DeformationFieldConfig config_;
  Mlp<T> mlp_;
  size_t capacity_, chunk_rows_;
  Buffer<T> adam_m_, adam_v_;
  Buffer<T> deltas_, d_deltas_;              // capacity × delta_dim
  Buffer<T> means_, log_scales_, quats_;     // capacity × 3, 3, 4
  Buffer<T> encoded_;                        // chunk_rows × input_dim
  Buffer<T> d_encoded_;                      // chunk_rows × input_dim, with embeddings only
  MlpWorkspace<T> workspace_;                // chunk_rows
  // The chunk whose activations the workspace holds after forward (one-chunk case), or none.
  bool activations_valid_ = false;
  size_t last_n_ = 0;
  size_t recomputed_chunks_ = 0;
  size_t context_bytes_ = 0;
};

}  // namespace gs
