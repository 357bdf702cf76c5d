#include "deform/mlp.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "core/errors.h"
#include "core/raw_memory.h"
#include "deform/linalg.h"

namespace gs {

template <class T>
Mlp<T>::Mlp(const MlpConfig& config, const Device& device) : config_(config), device_(device) {
  const int L = config.hidden_layers, W = config.hidden_width, D = config.input_dim;
  GS_CHECK(D > 0, "mlp: input_dim must be positive");
  GS_CHECK(L >= 0, "mlp: hidden_layers must be non-negative");
  GS_CHECK(L == 0 || W > 0, "mlp: hidden_width must be positive");
  GS_CHECK(config.skip_after >= -1 && config.skip_after < L,
           "mlp: skip_after must be -1 or a hidden layer index");
  GS_CHECK(!config.head_dims.empty(), "mlp: at least one output head is needed");

  // Input width of layer l (l == L: the heads), following input_segments().
  auto in_dim = [&](int l) {
    if (l == 0) return D;
    return W + (config.skip_after >= 0 && l - 1 == config.skip_after ? D : 0);
  };
  size_t offset = 0;
  auto add_layer = [&](int in, int out) {
    MlpLayer layer{in, out, offset, offset + size_t(in) * out};
    offset = layer.bias_offset + out;
    layers_.push_back(layer);
  };
  for (int l = 0; l < L; ++l) add_layer(in_dim(l), W);
  for (int h : config.head_dims) {
    GS_CHECK(h > 0, "mlp: head dimensions must be positive");
    head_offsets_.push_back(output_dim_);
    output_dim_ += h;
    add_layer(in_dim(L), h);
  }
  params_ = Buffer<T>(device_, offset, MemCategory::mlp);
  grads_ = Buffer<T>::zeros(device_, offset, MemCategory::mlp);
  init(config.seed);
}

template <class T>
void Mlp<T>::init(uint64_t seed) {
  // mt19937_64's sequence is fixed by the standard; uniform_real_distribution's is not, so the
  // [0, 1) draw is made here from the top 53 bits.
  std::mt19937_64 gen(seed);
  auto uniform = [&](double bound) {
    const double u = double(gen() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<T>((2.0 * u - 1.0) * bound);
  };
  std::vector<T> p(params_.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    const MlpLayer& layer = layers_[l];
    // Draw even for zeroed heads, so the hidden layers get the same values either way.
    const bool zero = config_.zero_init_heads && int(l) >= config_.hidden_layers;
    const double bound = 1.0 / std::sqrt(double(layer.in));
    for (size_t i = 0; i < size_t(layer.in) * layer.out; ++i)
      p[layer.weight_offset + i] = zero ? T(0) * uniform(bound) : uniform(bound);
    for (int o = 0; o < layer.out; ++o) p[layer.bias_offset + o] = zero ? T(0) * uniform(bound) : uniform(bound);
  }
  set_params(p);
}

template <class T>
void Mlp<T>::set_params(const std::vector<T>& host) {
  GS_CHECK(host.size() == params_.size(), "mlp: parameter count mismatch (" +
                                              std::to_string(host.size()) + " given, " +
                                              std::to_string(params_.size()) + " expected)");
  copy_bytes(device_, params_.data(), Device::cpu(), host.data(), params_.bytes());
}

template <class T>
MlpWorkspace<T> Mlp<T>::make_workspace(size_t rows) const {
  MlpWorkspace<T> ws;
  const size_t per_layer = rows * size_t(config_.hidden_width);
  ws.hidden = Buffer<T>(device_, size_t(config_.hidden_layers) * per_layer, MemCategory::mlp);
  ws.scratch = Buffer<T>(device_, config_.hidden_layers > 0 ? 2 * per_layer : 0, MemCategory::mlp);
  ws.capacity = rows;
  return ws;
}

template <class T>
int Mlp<T>::input_segments(int l, const T* x, const MlpWorkspace<T>& ws, Segment seg[2]) const {
  const int D = config_.input_dim, W = config_.hidden_width;
  if (l == 0) {
    seg[0] = {x, size_t(D), D, true};
    return 1;
  }
  const Segment prev{hidden(ws, l - 1), size_t(W), W, false};
  if (config_.skip_after >= 0 && l - 1 == config_.skip_after) {
    seg[0] = {x, size_t(D), D, true};  // [x, h]: Deformable-3DGS concatenates input first
    seg[1] = prev;
    return 2;
  }
  seg[0] = prev;
  return 1;
}

template <class T>
void Mlp<T>::forward(const T* x, size_t n, T* out, MlpWorkspace<T>& ws) const {
  GS_CHECK(n <= ws.capacity, "mlp: batch larger than the workspace");
  if (n == 0) return;
  const int L = config_.hidden_layers, rows = int(n);
  const T* p = params_.data();
  // out = act(Σ_segments seg · W[:, col:col+cols]ᵀ + b): one GEMM per input segment.
  auto linear = [&](const MlpLayer& layer, const Segment* seg, int nseg, T* y, size_t ldy,
                    bool relu) {
    int col = 0;
    for (int s = 0; s < nseg; ++s) {
      gemm<T>(device_, false, true, rows, layer.out, seg[s].cols, T(1), seg[s].ptr,
              int(seg[s].ld), p + layer.weight_offset + col, layer.in, s == 0 ? T(0) : T(1), y,
              int(ldy));
      col += seg[s].cols;
    }
    bias_activation<T>(device_, n, layer.out, y, ldy, p + layer.bias_offset, relu);
  };
  Segment seg[2];
  for (int l = 0; l < L; ++l) {
    const int nseg = input_segments(l, x, ws, seg);
    linear(layers_[l], seg, nseg, hidden(ws, l), size_t(config_.hidden_width), /*relu=*/true);
  }
  const int nseg = input_segments(L, x, ws, seg);
  for (size_t h = 0; h < config_.head_dims.size(); ++h)
    linear(layers_[L + h], seg, nseg, out + head_offsets_[h], size_t(output_dim_), /*relu=*/false);
}

template <class T>
void Mlp<T>::backward(const T* x, size_t n, const T* d_out, T* d_x, MlpWorkspace<T>& ws) {
  GS_CHECK(n <= ws.capacity, "mlp: batch larger than the workspace");
  const int L = config_.hidden_layers, W = config_.hidden_width, D = config_.input_dim;
  if (d_x) zero_bytes(device_, d_x, n * D * sizeof(T));
  if (n == 0) return;
  const int rows = int(n);
  const T* p = params_.data();
  T* dp = grads_.data();
  T* cur = ws.scratch.data();                                // ∂L/∂(this layer's output)
  T* other = cur ? cur + ws.capacity * size_t(W) : nullptr;  // ∂L/∂(its input)

  // One linear layer's backward: g (n × out, ldg) is ∂L/∂(pre-activation output).
  // Weight and bias gradients accumulate; input gradients go to d_x (input segment, added) and
  // to `into` (hidden segment: overwritten, or added when `add_into`).
  auto linear_backward = [&](const MlpLayer& layer, const Segment* seg, int nseg, const T* g,
                             size_t ldg, T* into, bool add_into) {
    int col = 0;
    for (int s = 0; s < nseg; ++s) {
      // dW[:, col:col+cols] += gᵀ · seg
      gemm<T>(device_, true, false, layer.out, seg[s].cols, rows, T(1), g, int(ldg), seg[s].ptr,
              int(seg[s].ld), T(1), dp + layer.weight_offset + col, layer.in);
      // ∂L/∂seg (n × cols) (+)= g · W[:, col:col+cols]
      T* target = seg[s].is_input ? d_x : into;
      if (target) {
        const bool add = seg[s].is_input || add_into;
        gemm<T>(device_, false, false, rows, seg[s].cols, layer.out, T(1), g, int(ldg),
                p + layer.weight_offset + col, layer.in, add ? T(1) : T(0), target,
                seg[s].is_input ? D : W);
      }
      col += seg[s].cols;
    }
    bias_grad_accumulate<T>(device_, n, layer.out, g, ldg, dp + layer.bias_offset);
  };

  Segment seg[2];
  int nseg = input_segments(L, x, ws, seg);
  for (size_t h = 0; h < config_.head_dims.size(); ++h)
    linear_backward(layers_[L + h], seg, nseg, d_out + head_offsets_[h], size_t(output_dim_),
                    L > 0 ? cur : nullptr, /*add_into=*/h > 0);
  for (int l = L - 1; l >= 0; --l) {
    relu_backward<T>(device_, n * W, hidden(ws, l), cur);  // pass where the output was > 0
    nseg = input_segments(l, x, ws, seg);
    linear_backward(layers_[l], seg, nseg, cur, size_t(W), l > 0 ? other : nullptr, false);
    std::swap(cur, other);
  }
}

template <class T>
size_t Mlp<T>::workspace_bytes_per_row() const {
  return sizeof(T) * size_t(config_.hidden_width) *
         (config_.hidden_layers + (config_.hidden_layers > 0 ? 2 : 0));
}

template <class T>
size_t Mlp<T>::io_bytes_per_row() const {
  return sizeof(T) * 2 * size_t(config_.input_dim + output_dim_);
}

template <class T>
size_t Mlp<T>::rows_for_budget(size_t budget_bytes) const {
  return std::max<size_t>(1, budget_bytes / (workspace_bytes_per_row() + io_bytes_per_row()));
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace gs
