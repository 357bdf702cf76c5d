#include "deform/mlp.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "core/errors.h"

namespace gs {

template <class T>
Mlp<T>::Mlp(const MlpConfig& config) : config_(config) {
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
  params_ = Buffer<T>(Device::cpu(), offset, MemCategory::mlp);
  grads_ = Buffer<T>::zeros(Device::cpu(), offset, MemCategory::mlp);
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
  T* p = params_.data();
  for (const MlpLayer& layer : layers_) {
    const double bound = 1.0 / std::sqrt(double(layer.in));
    for (size_t i = 0; i < size_t(layer.in) * layer.out; ++i) p[layer.weight_offset + i] = uniform(bound);
    for (int o = 0; o < layer.out; ++o) p[layer.bias_offset + o] = uniform(bound);
  }
}

template <class T>
MlpWorkspace<T> Mlp<T>::make_workspace(size_t rows) const {
  MlpWorkspace<T> ws;
  const size_t per_layer = rows * size_t(config_.hidden_width);
  ws.hidden = Buffer<T>(Device::cpu(), size_t(config_.hidden_layers) * per_layer, MemCategory::mlp);
  ws.scratch = Buffer<T>(Device::cpu(), config_.hidden_layers > 0 ? 2 * per_layer : 0,
                         MemCategory::mlp);
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

namespace {

// out[i, o] = act(b[o] + Σ_segments Σ_k seg[i, k] · W[o, col + k]).
template <class T, class Segment>
void linear_forward(const Segment* seg, int nseg, size_t n, const MlpLayer& layer, const T* p,
                    T* out, size_t ldo, bool relu) {
  const T* Wt = p + layer.weight_offset;
  const T* b = p + layer.bias_offset;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    T* oi = out + i * ldo;
    for (int o = 0; o < layer.out; ++o) {
      const T* wo = Wt + size_t(o) * layer.in;
      T acc = b[o];
      for (int s = 0; s < nseg; ++s) {
        const T* a = seg[s].ptr + i * seg[s].ld;
        for (int k = 0; k < seg[s].cols; ++k) acc += a[k] * wo[k];
        wo += seg[s].cols;
      }
      oi[o] = relu ? std::max(acc, T(0)) : acc;
    }
  }
}

// dW[o, ·] += Σ_i g[i, o] · input[i, ·]; db[o] += Σ_i g[i, o]. Parallel over o, rows in order:
// the additions into each gradient happen in row order, so chunked passes add exactly what
// one pass adds.
template <class T, class Segment>
void linear_weight_grad(const Segment* seg, int nseg, size_t n, const MlpLayer& layer,
                        const T* g, size_t ldg, T* grads) {
  T* dW = grads + layer.weight_offset;
  T* db = grads + layer.bias_offset;
#pragma omp parallel for schedule(static)
  for (int o = 0; o < layer.out; ++o) {
    for (size_t i = 0; i < n; ++i) {
      const T go = g[i * ldg + o];
      if (go == T(0)) continue;  // ReLU zeroes many rows; adding zero changes nothing
      db[o] += go;
      T* dwo = dW + size_t(o) * layer.in;
      for (int s = 0; s < nseg; ++s) {
        const T* a = seg[s].ptr + i * seg[s].ld;
        for (int k = 0; k < seg[s].cols; ++k) dwo[k] += go * a[k];
        dwo += seg[s].cols;
      }
    }
  }
}

// target_s[i, k] += Σ_o g[i, o] · W[o, col_s + k] for every segment with a target.
template <class T>
void linear_input_grad(T* const* target, const size_t* ldt, const int* cols, int nseg, size_t n,
                       const MlpLayer& layer, const T* p, const T* g, size_t ldg) {
  const T* Wt = p + layer.weight_offset;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    for (int o = 0; o < layer.out; ++o) {
      const T go = g[i * ldg + o];
      if (go == T(0)) continue;
      const T* wo = Wt + size_t(o) * layer.in;
      for (int s = 0; s < nseg; ++s) {
        if (target[s]) {
          T* t = target[s] + i * ldt[s];
          for (int k = 0; k < cols[s]; ++k) t[k] += go * wo[k];
        }
        wo += cols[s];
      }
    }
  }
}

}  // namespace

template <class T>
void Mlp<T>::forward(const T* x, size_t n, T* out, MlpWorkspace<T>& ws) const {
  GS_CHECK(n <= ws.capacity, "mlp: batch larger than the workspace");
  const int L = config_.hidden_layers;
  Segment seg[2];
  for (int l = 0; l < L; ++l) {
    const int nseg = input_segments(l, x, ws, seg);
    linear_forward(seg, nseg, n, layers_[l], params_.data(), hidden(ws, l),
                   size_t(config_.hidden_width), /*relu=*/true);
  }
  const int nseg = input_segments(L, x, ws, seg);
  for (size_t h = 0; h < config_.head_dims.size(); ++h)
    linear_forward(seg, nseg, n, layers_[L + h], params_.data(), out + head_offsets_[h],
                   size_t(output_dim_), /*relu=*/false);
}

template <class T>
void Mlp<T>::backward(const T* x, size_t n, const T* d_out, T* d_x, MlpWorkspace<T>& ws) {
  GS_CHECK(n <= ws.capacity, "mlp: batch larger than the workspace");
  const int L = config_.hidden_layers, W = config_.hidden_width, D = config_.input_dim;
  if (d_x) std::fill(d_x, d_x + n * D, T(0));
  T* cur = ws.scratch.data();                            // ∂L/∂(this layer's output)
  T* other = cur ? cur + ws.capacity * size_t(W) : nullptr;  // ∂L/∂(its input)

  // Gradients flowing out of layer l's input segments land in d_x (input) or `into` (hidden).
  auto input_grad = [&](int l, const Segment* seg, int nseg, const T* g, size_t ldg, T* into) {
    T* target[2];
    size_t ldt[2];
    int cols[2];
    for (int s = 0; s < nseg; ++s) {
      target[s] = seg[s].is_input ? d_x : into;
      ldt[s] = seg[s].is_input ? size_t(D) : size_t(W);
      cols[s] = seg[s].cols;
    }
    linear_input_grad(target, ldt, cols, nseg, n, layers_[l], params_.data(), g, ldg);
  };

  Segment seg[2];
  int nseg = input_segments(L, x, ws, seg);
  if (L > 0) std::fill(cur, cur + n * W, T(0));
  for (size_t h = 0; h < config_.head_dims.size(); ++h) {
    const T* g = d_out + head_offsets_[h];
    linear_weight_grad(seg, nseg, n, layers_[L + h], g, size_t(output_dim_), grads_.data());
    input_grad(L + int(h), seg, nseg, g, size_t(output_dim_), cur);
  }
  for (int l = L - 1; l >= 0; --l) {
    // ReLU: pass the gradient where the output was positive.
    const T* a = hidden(ws, l);
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < static_cast<int64_t>(n * W); ++j)
      if (!(a[j] > T(0))) cur[j] = T(0);
    nseg = input_segments(l, x, ws, seg);
    linear_weight_grad(seg, nseg, n, layers_[l], cur, size_t(W), grads_.data());
    if (l > 0) std::fill(other, other + n * W, T(0));
    input_grad(l, seg, nseg, cur, size_t(W), other);
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
