// NeRF positional encoding γ(p) for the deformation network's inputs (x and t), CPU, with its
// backward. Rows are points (Gaussians); each row holds `input_dim` values.
//
// Output layout of one row (the layout of Deformable-3DGS's Embedder, so its weights map 1:1):
//   [ p_0..p_{D-1},                                   (only when include_input)
//     sin(2^0 s p_0)..sin(2^0 s p_{D-1}),  cos(2^0 s p_0)..cos(2^0 s p_{D-1}),
//     sin(2^1 s p_0)..,                    cos(2^1 s p_0)..,
//     …,
//     sin(2^{L-1} s p_0)..,                cos(2^{L-1} s p_0).. ]
// i.e. frequency-major, then sin before cos, with the input dimension innermost.
// s = π by default (NeRF); Deformable-3DGS's code uses s = 1, so it is a setting.
#pragma once

#include <cstddef>

namespace gs {

struct PositionalEncoding {
  int input_dim = 3;
  int num_freqs = 10;          // L
  bool include_input = true;   // Deformable-3DGS feeds the raw input too
  double scale = 3.14159265358979323846;  // s: frequencies are 2^k·s

  int output_dim() const { return input_dim * ((include_input ? 1 : 0) + 2 * num_freqs); }
};

// out: n × enc.output_dim(), row-major.
template <class T>
void positional_encoding_forward(const PositionalEncoding& enc, const T* p, size_t n, T* out);

// d_p (n × input_dim) = ∂L/∂p from d_gamma = ∂L/∂γ (n × output_dim). Overwrites d_p, or adds
// to it when `accumulate` (x may also receive gradients from elsewhere).
template <class T>
void positional_encoding_backward(const PositionalEncoding& enc, const T* p, size_t n,
                                  const T* d_gamma, T* d_p, bool accumulate = false);

}  // namespace gs
