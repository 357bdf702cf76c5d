// The deformation field (see deformation_field.h).
#include "deform/deformation_field.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/errors.h"
#include "deform/linalg.h"

namespace gs {

template <class T>
MlpConfig DeformationField<T>::mlp_config(const DeformationFieldConfig& c) {
  MlpConfig m;
  m.input_dim = c.input_dim();
  m.hidden_width = c.width;
  m.hidden_layers = c.depth;
  m.skip_after = c.skip_after;
  // Deformable-3DGS's warp, rotation and scaling heads (OmniRe's deformable nodes: no scaling).
  m.head_dims = c.deform_scales ? std::vector<int>{3, 4, 3} : std::vector<int>{3, 4};
  m.seed = c.seed;
  m.zero_init_heads = c.zero_init_heads;
  return m;
}

template <class T>
DeformationField<T>::DeformationField(const DeformationFieldConfig& config, const Device& device,
                                      size_t capacity, size_t chunk_rows)
    : config_(config),
      mlp_(mlp_config(config), device),
      capacity_(capacity),
      chunk_rows_(std::max<size_t>(1, std::min(chunk_rows, std::max<size_t>(capacity, 1)))) {
  GS_CHECK(config.embedding_dim >= 0, "deformation field: negative embedding size");
  const size_t w = mlp_.params().size();
  const size_t deltas = size_t(config.delta_dim()), input = size_t(config.input_dim());
  adam_m_ = Buffer<T>::zeros(device, w, MemCategory::mlp);
  adam_v_ = Buffer<T>::zeros(device, w, MemCategory::mlp);
  deltas_ = Buffer<T>::zeros(device, capacity * deltas, MemCategory::mlp);
  d_deltas_ = Buffer<T>(device, capacity * deltas, MemCategory::mlp);
  means_ = Buffer<T>(device, capacity * 3, MemCategory::mlp);
  log_scales_ = Buffer<T>(device, capacity * 3, MemCategory::mlp);
  quats_ = Buffer<T>(device, capacity * 4, MemCategory::mlp);
  encoded_ = Buffer<T>(device, chunk_rows_ * input, MemCategory::mlp);
  // The embeddings are trained through the network's input gradient; positions are not (sg(x)),
  // so without embeddings the MLP's backward skips ∂L/∂input altogether.
  if (config.embedding_dim > 0) d_encoded_ = Buffer<T>(device, chunk_rows_ * input, MemCategory::mlp);
  workspace_ = mlp_.make_workspace(chunk_rows_);
  context_bytes_ = linalg_prepare(device);
}

template <class T>
void DeformationField<T>::forward_chunk(const T* means, size_t begin, size_t rows, T t,
                                        const FieldInstances<T>* instances) {
  FieldInstances<T> chunk;  // the chunk's ids
  if (instances) {
    chunk = *instances;
    chunk.ids = instances->ids + begin;
  }
  encode_field_input<T>(device(), config_.encoding, means + begin * 3, rows, t, encoded_.data(),
                        instances ? &chunk : nullptr, config_.embedding_dim);
  mlp_.forward(encoded_.data(), rows, deltas_.data() + begin * size_t(config_.delta_dim()),
               workspace_);
}

template <class T>
void DeformationField<T>::backward_chunk(size_t begin, size_t rows,
                                         const FieldInstances<T>* instances) {
  const bool embeddings = config_.embedding_dim > 0 && instances && instances->d_embeddings;
  T* d_x = embeddings ? d_encoded_.data() : nullptr;
  mlp_.backward(encoded_.data(), rows, d_deltas_.data() + begin * size_t(config_.delta_dim()), d_x,
                workspace_);
  if (!embeddings) return;
  // The position and time columns of d_x are dropped (stop-gradient on x; t is given).
  scatter_embedding_grads<T>(device(), rows, instances->ids + begin, instances->count, d_x,
                             config_.input_dim(), config_.encoding.dim(), config_.embedding_dim,
                             instances->d_embeddings);
}

template <class T>
void DeformationField<T>::forward(const T* means, const T* log_scales, const T* quats, size_t n,
                                  T t, const FieldInstances<T>* instances) {
  GS_CHECK(n <= capacity_, "deformation field: " + std::to_string(n) +
                               " Gaussians exceed its capacity " + std::to_string(capacity_));
  for (size_t begin = 0; begin < n; begin += chunk_rows_)
    forward_chunk(means, begin, std::min(chunk_rows_, n - begin), t, instances);
  // Only a single chunk leaves the workspace holding activations that match the deltas.
  activations_valid_ = n > 0 && n <= chunk_rows_;
  last_n_ = n;
  apply_deformation_forward<T>(device(), n, means, log_scales, quats, deltas_.data(),
                               means_.data(), log_scales_.data(), quats_.data(),
                               config_.delta_dim());
}

template <class T>
void DeformationField<T>::backward(const T* means, const T* log_scales, const T* quats, size_t n,
                                   T t, const T* v_means, T* v_log_scales, T* v_quats,
                                   const FieldInstances<T>* instances) {
  GS_CHECK(n == last_n_, "deformation field: backward over a different count than forward");
  apply_deformation_backward<T>(device(), n, log_scales, quats, deltas_.data(), v_means,
                                v_log_scales, v_quats, d_deltas_.data(), config_.delta_dim());
  recomputed_chunks_ = 0;
  if (activations_valid_) {
    backward_chunk(0, n, instances);
    return;
  }
  for (size_t begin = 0; begin < n; begin += chunk_rows_) {
    const size_t rows = std::min(chunk_rows_, n - begin);
    forward_chunk(means, begin, rows, t, instances);  // recompute this chunk's activations
    ++recomputed_chunks_;
    backward_chunk(begin, rows, instances);
  }
}

template <class T>
size_t DeformationField<T>::state_bytes() const {
  return mlp_.params().bytes() + mlp_.grads().bytes() + adam_m_.bytes() + adam_v_.bytes();
}

template <class T>
size_t DeformationField<T>::per_gaussian_bytes() const {
  return deltas_.bytes() + d_deltas_.bytes() + means_.bytes() + log_scales_.bytes() + quats_.bytes();
}

template <class T>
size_t DeformationField<T>::activation_bytes() const {
  return encoded_.bytes() + d_encoded_.bytes() + workspace_.hidden.bytes() +
         workspace_.scratch.bytes();
}

template <class T>
size_t DeformationField<T>::per_gaussian_bytes_for(const DeformationFieldConfig& config) {
  return sizeof(T) * (2 * size_t(config.delta_dim()) + 3 + 3 + 4);
}

template <class T>
size_t DeformationField<T>::activation_bytes_per_row(const DeformationFieldConfig& config) {
  const size_t hidden_rows = size_t(config.depth) + (config.depth > 0 ? 2 : 0);
  // The encoded input, and its gradient when embeddings are trained through it.
  const size_t input_rows = config.embedding_dim > 0 ? 2 : 1;
  return sizeof(T) *
         (input_rows * size_t(config.input_dim()) + hidden_rows * size_t(config.width));
}

template class DeformationField<float>;
template class DeformationField<double>;

}  // namespace gs
