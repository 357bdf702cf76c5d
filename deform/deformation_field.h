// The Deformable-3DGS deformation field F(γ(sg(x)), γ(t)) → (δx, δr, δs), applied to a node's
// canonical Gaussians at one time t per view.
//
// Bounded activation memory: the MLP runs over the Gaussians in chunks of `chunk_rows`. When
// all Gaussians fit in one chunk, the forward keeps its activations for the backward; otherwise
// the forward keeps only the deltas (n × 10) and the backward recomputes each chunk's forward
// just before back-propagating it. Activation memory is therefore chunk_rows × (per-row bytes),
// whatever n is; the price of recomputation is one extra MLP forward per step.
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
  void forward(const T* means, const T* log_scales, const T* quats, size_t n, T t);
  // After forward with the same inputs: accumulates the MLP's parameter gradients (mlp().grads())
  // and maps v_log_scales and v_quats (in: ∂L/∂deformed) to ∂L/∂canonical in place. v_means
  // (∂L/∂deformed mean) is also ∂L/∂canonical mean and is only read.
  void backward(const T* means, const T* log_scales, const T* quats, size_t n, T t,
                const T* v_means, T* v_log_scales, T* v_quats);

  const T* deformed_means() const { return means_.data(); }
  const T* deformed_log_scales() const { return log_scales_.data(); }
  const T* deformed_quats() const { return quats_.data(); }
  const T* deltas() const { return deltas_.data(); }  // n × 10 of the last forward

  // How many chunk forwards the last backward recomputed (0 when activations were kept).
  size_t recomputed_chunks() const { return recomputed_chunks_; }

  // Bytes by role, for the memory model and memory.jsonl.
  size_t state_bytes() const;        // weights, gradients, Adam m and v
  size_t per_gaussian_bytes() const; // deltas, their gradients, deformed copies (at capacity)
  size_t activation_bytes() const;   // encoded input + MLP workspace of one chunk
  // The device's linalg state (CUDA: cuBLAS workspace, kLinalgCudaContextBytes; CPU: 0). It is
  // created with the field and shared by every field on the device and thread.
  size_t context_bytes() const { return context_bytes_; }
  size_t bytes() const {
    return state_bytes() + per_gaussian_bytes() + activation_bytes() + context_bytes();
  }

  // What the same quantities cost before constructing one (the memory model must agree).
  static size_t per_gaussian_bytes_for();  // per Gaussian
  static size_t activation_bytes_per_row(const DeformationFieldConfig& config);

 private:
  static MlpConfig mlp_config(const DeformationFieldConfig& config);
  // Encodes chunk [begin, begin+rows) and runs the MLP forward over it into deltas_.
  void forward_chunk(const T* means, size_t begin, size_t rows, T t);

  DeformationFieldConfig config_;
  Mlp<T> mlp_;
  size_t capacity_, chunk_rows_;
  Buffer<T> adam_m_, adam_v_;
  Buffer<T> deltas_, d_deltas_;              // capacity × 10
  Buffer<T> means_, log_scales_, quats_;     // capacity × 3, 3, 4
  Buffer<T> encoded_;                        // chunk_rows × encoding.dim()
  MlpWorkspace<T> workspace_;                // chunk_rows
  // The chunk whose activations the workspace holds after forward (one-chunk case), or none.
  bool activations_valid_ = false;
  size_t last_n_ = 0;
  size_t recomputed_chunks_ = 0;
  size_t context_bytes_ = 0;
};

}  // namespace gs
