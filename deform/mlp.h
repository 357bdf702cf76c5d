// The deformation field's MLP, on the CPU or CUDA: `hidden_layers` linear+ReLU layers of `hidden_width`,
// an optional skip that re-concatenates the network input after one hidden layer (as
// Deformable-3DGS does after layer 4), and linear output heads (δx, δr, δs) that all read the
// last hidden state. Forward over a batch (rows = Gaussians) and backward that accumulates
// weight/bias gradients and returns input gradients. The GEMMs go through deform/linalg.h
// (OpenBLAS on the CPU, cuBLAS on CUDA); all pointers live on the MLP's device.
//
// Memory: weights and gradients live in Buffer<T>s tagged MemCategory::mlp; per-row
// activations live in an MlpWorkspace sized for a chunk of rows, so a caller bounds activation
// memory by running a large batch chunk by chunk (forward chunk, backward chunk: gradients sum).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/buffer.h"

namespace gs {

struct MlpConfig {
  int input_dim = 0;
  int hidden_width = 256;
  int hidden_layers = 8;       // 0: the heads read the input directly (a plain linear map)
  // 0-based hidden layer after whose ReLU the input is concatenated in front of the hidden
  // state ([x, h], Deformable-3DGS's order); the next layer (or the heads) then reads
  // input_dim + hidden_width values. -1: no skip.
  int skip_after = -1;
  std::vector<int> head_dims;  // e.g. {3, 4, 3}; outputs are concatenated in this order
  uint64_t seed = 0;
  // Heads start at zero (weights and biases), so the network's output is exactly 0 until it
  // has trained: a deformation field switched on mid-run then starts from the identity instead
  // of a random jolt. Gradients still reach every layer after the heads' first update.
  bool zero_init_heads = false;
};

// Where one linear layer lives inside the flat parameter buffer: W (out × in, row-major)
// followed by b (out).
struct MlpLayer {
  int in = 0, out = 0;
  size_t weight_offset = 0, bias_offset = 0;
};

// Per-row storage for one chunk: every hidden layer's post-ReLU output (backward needs them;
// ReLU's mask is read back as "output > 0") plus two ping-pong gradient rows for backward.
// On the MLP's device.
template <class T>
struct MlpWorkspace {
  Buffer<T> hidden;   // hidden_layers × capacity × width
  Buffer<T> scratch;  // 2 × capacity × width
  size_t capacity = 0;
};

template <class T>
class Mlp {
 public:
  explicit Mlp(const MlpConfig& config, const Device& device = Device::cpu());

  const MlpConfig& config() const { return config_; }
  const Device& device() const { return device_; }
  int output_dim() const { return output_dim_; }
  int head_offset(int head) const { return head_offsets_[head]; }  // column of head's output
  // Layers 0..hidden_layers-1 are hidden, then one per head.
  const std::vector<MlpLayer>& layers() const { return layers_; }
  const MlpLayer& head_layer(int head) const { return layers_[config_.hidden_layers + head]; }

  Buffer<T>& params() { return params_; }
  const Buffer<T>& params() const { return params_; }
  Buffer<T>& grads() { return grads_; }
  const Buffer<T>& grads() const { return grads_; }
  void zero_grad() { grads_.zero(); }

  // Re-draws every weight and bias from U(-1/√fan_in, 1/√fan_in) (PyTorch nn.Linear's default,
  // i.e. Kaiming-uniform with a = √5), from `seed` only: the same values on every platform.
  // Heads are zeroed instead when config().zero_init_heads.
  void init(uint64_t seed);
  // The parameters in a host vector (checkpoints, tests) and back.
  std::vector<T> params_to_host() const { return params_.to_host(); }
  void set_params(const std::vector<T>& host);

  MlpWorkspace<T> make_workspace(size_t rows) const;

  // x: n × input_dim; out: n × output_dim (row-major). Stores activations in ws (n ≤ capacity).
  void forward(const T* x, size_t n, T* out, MlpWorkspace<T>& ws) const;
  // After forward(x, n, …, ws) with the same x and n: adds ∂L/∂θ to grads() and, when d_x is
  // non-null, writes ∂L/∂x (n × input_dim). d_out: ∂L/∂out, n × output_dim.
  void backward(const T* x, size_t n, const T* d_out, T* d_x, MlpWorkspace<T>& ws);

  // Budgeting: weights (and, the same again, their gradients; Adam adds two more copies).
  size_t weight_bytes() const { return params_.bytes(); }
  // Workspace bytes per row (activations + backward scratch).
  size_t workspace_bytes_per_row() const;
  // Caller-held bytes per row: x, out, d_out and d_x.
  size_t io_bytes_per_row() const;
  // Largest chunk whose workspace and I/O fit in `budget_bytes` (at least 1).
  size_t rows_for_budget(size_t budget_bytes) const;

 private:
  struct Segment {  // a column block of a layer's input: `cols` values at ptr + row·ld
    const T* ptr;
    size_t ld;
    int cols;
    bool is_input;
  };
  // The (one or two) segments layer l reads; l == hidden_layers means the heads.
  int input_segments(int l, const T* x, const MlpWorkspace<T>& ws, Segment seg[2]) const;
  const T* hidden(const MlpWorkspace<T>& ws, int l) const {
    return ws.hidden.data() + size_t(l) * ws.capacity * config_.hidden_width;
  }
  T* hidden(MlpWorkspace<T>& ws, int l) const {
    return ws.hidden.data() + size_t(l) * ws.capacity * config_.hidden_width;
  }

  MlpConfig config_;
  Device device_;
  std::vector<MlpLayer> layers_;
  std::vector<int> head_offsets_;
  int output_dim_ = 0;
  Buffer<T> params_;
  Buffer<T> grads_;
};

}  // namespace gs
