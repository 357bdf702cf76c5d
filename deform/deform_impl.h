// Kernel bodies of the deformation field's per-Gaussian steps, shared by deform_ops_cpu.cpp and
// deform_ops_cuda.cu (one Gaussian per index): building the network input [γ(x), γ(t)[, e]] and
// applying the network's output (δx, δr[, δs]) to the canonical Gaussians, forward and backward.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/hd.h"
#include "core/vec_math.h"

namespace gs::deform_impl {

using rmath::abs_;
using rmath::exp_;
using rmath::log_;
using rmath::sqrt_;
GS_HD inline float sin_(float x) { return sinf(x); }
GS_HD inline double sin_(double x) { return sin(x); }
GS_HD inline float cos_(float x) { return cosf(x); }
GS_HD inline double cos_(double x) { return cos(x); }

// A floor on |exp_(s) + δs| before its log: the deformed scale may cross zero (the reference
// squares it in the covariance, so its sign never mattered); below the floor it is held there
// and passes no gradient.
constexpr double kMinDeformedScale = 1e-8;
// A floor on |q| before normalising, for a degenerate canonical quaternion.
constexpr double kMinQuatNorm = 1e-12;

// One row of the network input: [x, sin_(2^k s x), cos_(2^k s x) for k < Lx,
//                                t, sin_(2^k s t), cos_(2^k s t) for k < Lt, e]
// in positional_encoding.h's layout (frequency-major, sin before cos, dimension innermost).
// With instances (OmniRe's deformable nodes), x is the mean scaled by its instance's inverse box
// size and e (embedding_dim values) its instance's embedding; without, or for an id outside
// [0, instance_count), x is the mean as it is and e is zero.
template <class T>
struct EncodeKernel {
  const T* means;  // n × 3
  T t;
  int position_freqs, time_freqs;
  T scale;
  T* out;          // n × (3 + 6 Lx + 1 + 2 Lt + E)
  int embedding_dim = 0;             // E
  const int32_t* ids = nullptr;      // n, or null: no instances
  size_t instance_count = 0;
  const T* inv_box_size = nullptr;   // K × 3, or null
  const T* embeddings = nullptr;     // K × E, or null

  GS_HD void operator()(size_t i) const {
    const int dim = 3 + 6 * position_freqs + 1 + 2 * time_freqs + embedding_dim;
    T* o = out + i * dim;
    const int32_t id = ids ? ids[i] : -1;
    const bool known = id >= 0 && size_t(id) < instance_count;
    T x[3];
    for (int d = 0; d < 3; ++d)
      x[d] = known && inv_box_size ? means[i * 3 + d] * inv_box_size[size_t(id) * 3 + d]
                                   : means[i * 3 + d];
    for (int d = 0; d < 3; ++d) o[d] = x[d];
    o += 3;
    T f = scale;
    for (int k = 0; k < position_freqs; ++k, f *= T(2), o += 6)
      for (int d = 0; d < 3; ++d) {
        o[d] = sin_(f * x[d]);
        o[3 + d] = cos_(f * x[d]);
      }
    o[0] = t;
    ++o;
    f = scale;
    for (int k = 0; k < time_freqs; ++k, f *= T(2), o += 2) {
      o[0] = sin_(f * t);
      o[1] = cos_(f * t);
    }
    for (int e = 0; e < embedding_dim; ++e)
      o[e] = known && embeddings ? embeddings[size_t(id) * embedding_dim + e] : T(0);
  }
};

// Deformed Gaussian i from canonical i and its row of deltas [δx 3, δr 4, δs 3]:
//   mean = x + δx,   quat = q/|q| + δr,   log_scale = log|exp_(s) + δs|
// (Deformable-3DGS adds δr to the normalised quaternion and δs to the activated scale).
// delta_dim 7 (OmniRe's deformable nodes deform no scale): rows [δx 3, δr 4], log-scale copied.
template <class T>
struct ApplyForwardKernel {
  const T *means, *log_scales, *quats, *deltas;
  T *means_out, *log_scales_out, *quats_out;
  int delta_dim = 10;

  GS_HD void operator()(size_t i) const {
    const T* dl = deltas + i * delta_dim;
    for (int d = 0; d < 3; ++d) means_out[i * 3 + d] = means[i * 3 + d] + dl[d];
    const T* q = quats + i * 4;
    T norm = sqrt_(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    norm = norm > T(kMinQuatNorm) ? norm : T(kMinQuatNorm);
    for (int c = 0; c < 4; ++c) quats_out[i * 4 + c] = q[c] / norm + dl[3 + c];
    if (delta_dim < 10) {
      for (int d = 0; d < 3; ++d) log_scales_out[i * 3 + d] = log_scales[i * 3 + d];
      return;
    }
    for (int d = 0; d < 3; ++d) {
      const T u = exp_(log_scales[i * 3 + d]) + dl[7 + d];
      const T au = abs_(u) > T(kMinDeformedScale) ? abs_(u) : T(kMinDeformedScale);
      log_scales_out[i * 3 + d] = log_(au);
    }
  }
};

// Backward of ApplyForwardKernel. In: ∂L/∂(deformed mean, log-scale, quaternion). Out:
// ∂L/∂deltas (n × delta_dim) and, in place, ∂L/∂(canonical log-scale, quaternion). The
// canonical mean's gradient equals the deformed mean's (x enters the network through a
// stop-gradient), so v_means is only read; so is v_log_scales when delta_dim is 7 (the copied
// scale's gradient is the canonical one's).
template <class T>
struct ApplyBackwardKernel {
  const T *log_scales, *quats, *deltas, *v_means;
  T *v_log_scales, *v_quats, *d_deltas;
  int delta_dim = 10;

  GS_HD void operator()(size_t i) const {
    T* dd = d_deltas + i * delta_dim;
    for (int d = 0; d < 3; ++d) dd[d] = v_means[i * 3 + d];
    const T* q = quats + i * 4;
    T* vq = v_quats + i * 4;
    T norm = sqrt_(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    const bool floored = !(norm > T(kMinQuatNorm));
    norm = floored ? T(kMinQuatNorm) : norm;
    T qn[4], dot = T(0);
    for (int c = 0; c < 4; ++c) {
      qn[c] = q[c] / norm;
      dd[3 + c] = vq[c];
      dot += qn[c] * vq[c];
    }
    // ∂(q/|q|)/∂q = (I − q̂ q̂ᵀ)/|q|; a floored norm is a constant, so just 1/floor.
    for (int c = 0; c < 4; ++c) vq[c] = floored ? vq[c] / norm : (vq[c] - qn[c] * dot) / norm;
    if (delta_dim < 10) return;
    for (int d = 0; d < 3; ++d) {
      const T e = exp_(log_scales[i * 3 + d]);
      const T u = e + deltas[i * delta_dim + 7 + d];
      // d log|u| / du = 1/u (either sign); zero where the floor holds it.
      const T g = abs_(u) > T(kMinDeformedScale) ? v_log_scales[i * 3 + d] / u : T(0);
      dd[7 + d] = g;
      v_log_scales[i * 3 + d] = g * e;
    }
  }
};

}  // namespace gs::deform_impl
