// The deformation field (see deformation_field.h).
#include "deform/deformation_field.h"

#include <algorithm>

#include "core/errors.h"
#include "deform/linalg.h"

namespace gs {

namespace {
constexpr int kDeltaDim = 10;  // δx 3, δr 4, δs 3
}

template <class T>
MlpConfig DeformationField<T>::mlp_config(const DeformationFieldConfig& c) {
  MlpConfig m;
  m.input_dim = c.encoding.dim();
  m.hidden_width = c.width;
  m.hidden_layers = c.depth;
  m.skip_after = c.skip_after;
  m.head_dims = {3, 4, 3};  // Deformable-3DGS's warp, rotation and scaling heads
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
  const size_t w = mlp_.params().size();
  adam_m_ = Buffer<T>::zeros(device, w, MemCategory::mlp);
  adam_v_ = Buffer<T>::zeros(device, w, MemCategory::mlp);
  deltas_ = Buffer<T>::zeros(device, capacity * kDeltaDim, MemCategory::mlp);
  d_deltas_ = Buffer<T>(device, capacity * kDeltaDim, MemCategory::mlp);
  means_ = Buffer<T>(device, capacity * 3, MemCategory::mlp);
  log_scales_ = Buffer<T>(device, capacity * 3, MemCategory::mlp);
  quats_ = Buffer<T>(device, capacity * 4, MemCategory::mlp);
  encoded_ = Buffer<T>(device, chunk_rows_ * size_t(config.encoding.dim()), MemCategory::mlp);
  workspace_ = mlp_.make_workspace(chunk_rows_);
  context_bytes_ = linalg_prepare(device);
}

template <class T>
void DeformationField<T>::forward_chunk(const T* means, size_t begin, size_t rows, T t) {
  encode_field_input<T>(device(), config_.encoding, means + begin * 3, rows, t, encoded_.data());
  mlp_.forward(encoded_.data(), rows, deltas_.data() + begin * kDeltaDim, workspace_);
}

template <class T>
void DeformationField<T>::forward(const T* means, const T* log_scales, const T* quats, size_t n,
                                  T t) {
  GS_CHECK(n <= capacity_, "deformation field: " + std::to_string(n) +
                               " Gaussians exceed its capacity " + std::to_string(capacity_));
  for (size_t begin = 0; begin < n; begin += chunk_rows_)
    forward_chunk(means, begin, std::min(chunk_rows_, n - begin), t);
  // Only a single chunk leaves the workspace holding activations that match the deltas.
  activations_valid_ = n > 0 && n <= chunk_rows_;
  last_n_ = n;
  apply_deformation_forward<T>(device(), n, means, log_scales, quats, deltas_.data(),
                               means_.data(), log_scales_.data(), quats_.data());
}

template <class T>
void DeformationField<T>::backward(const T* means, const T* log_scales, const T* quats, size_t n,
                                   T t, const T* v_means, T* v_log_scales, T* v_quats) {
  GS_CHECK(n == last_n_, "deformation field: backward over a different count than forward");
  apply_deformation_backward<T>(device(), n, log_scales, quats, deltas_.data(), v_means,
                                v_log_scales, v_quats, d_deltas_.data());
  recomputed_chunks_ = 0;
  // Stop-gradient on x: the network's input gradient is never needed (d_x = nullptr).
  if (activations_valid_) {
    mlp_.backward(encoded_.data(), n, d_deltas_.data(), nullptr, workspace_);
    return;
  }
  for (size_t begin = 0; begin < n; begin += chunk_rows_) {
    const size_t rows = std::min(chunk_rows_, n - begin);
    forward_chunk(means, begin, rows, t);  // recompute this chunk's activations
    ++recomputed_chunks_;
    mlp_.backward(encoded_.data(), rows, d_deltas_.data() + begin * kDeltaDim, nullptr, workspace_);
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
  return encoded_.bytes() + workspace_.hidden.bytes() + workspace_.scratch.bytes();
}

template <class T>
size_t DeformationField<T>::per_gaussian_bytes_for() {
  return sizeof(T) * (2 * kDeltaDim + 3 + 3 + 4);
}

template <class T>
size_t DeformationField<T>::activation_bytes_per_row(const DeformationFieldConfig& config) {
  const size_t hidden_rows = size_t(config.depth) + (config.depth > 0 ? 2 : 0);
  return sizeof(T) * (size_t(config.encoding.dim()) + hidden_rows * size_t(config.width));
}

template class DeformationField<float>;
template class DeformationField<double>;

}  // namespace gs
