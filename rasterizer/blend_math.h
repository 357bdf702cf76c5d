// Per-pixel blending of one Gaussian, front to back, and its backward (DESIGN.md §3):
// α = min(0.99, o·exp(−½ dᵀ conic d)), skip α < 1/255, stop before T < 1e-4. The CPU and CUDA
// tile loops differ only in how they walk a tile's list; each step is this code.
#pragma once

#include <cstdint>

#include "core/vec_math.h"

namespace gs::rmath {

constexpr double kAlphaMax = 0.99;
constexpr double kBlendAlphaMin = 1.0 / 255.0;
constexpr double kTransmittanceMin = 1e-4;

// −½ dᵀ conic d with d = pixel − mean2d.
template <class T>
GS_HD inline T splat_power(Sym2<T> conic, T dx, T dy) {
  return T(-0.5) * (conic.a * dx * dx + conic.c * dy * dy) - conic.b * dx * dy;
}

// Gradients of one splat at one pixel.
template <class T>
struct SplatGrad {
  Vec2<T> mean2d;  // ∂L/∂mean2d from this pixel (also the per-pixel AbsGrad term)
  Sym2<T> conic;
  T opacity;
};

// α of a Gaussian at a pixel, or 0 when it is skipped (α < 1/255, or a positive power from a
// numerically indefinite conic), with gauss = exp(power) (0 with a positive power), so a
// backward loop that needs both evaluates the exponential once (v_splat_alpha_given).
template <class T>
struct AlphaAndGauss {
  T alpha, gauss;
};
template <class T>
GS_HD inline AlphaAndGauss<T> splat_alpha_and_gauss(Sym2<T> conic, T opacity, T dx, T dy) {
  const T power = splat_power(conic, dx, dy);
  if (power > T(0)) return {T(0), T(0)};
  const T gauss = exp_(power);
  const T alpha = min_(T(kAlphaMax), opacity * gauss);
  return {alpha < T(kBlendAlphaMin) ? T(0) : alpha, gauss};
}

// α alone (the forward's blend).
template <class T>
GS_HD inline T splat_alpha(Sym2<T> conic, T opacity, T dx, T dy) {
  return splat_alpha_and_gauss(conic, opacity, dx, dy).alpha;
}

// From ∂L/∂α to ∂L/∂(mean2d, conic, opacity), given gauss = exp(power) at the pixel. No
// gradient where α was clamped at 0.99.
template <class T>
GS_HD inline SplatGrad<T> v_splat_alpha_given(Sym2<T> conic, T opacity, T dx, T dy, T gauss,
                                              T v_alpha) {
  SplatGrad<T> g = {{0, 0}, {0, 0, 0}, 0};
  if (opacity * gauss > T(kAlphaMax)) return g;
  g.opacity = gauss * v_alpha;
  const T v_power = opacity * gauss * v_alpha;
  g.conic = {T(-0.5) * dx * dx * v_power, -dx * dy * v_power, T(-0.5) * dy * dy * v_power};
  g.mean2d = {(conic.a * dx + conic.b * dy) * v_power, (conic.b * dx + conic.c * dy) * v_power};
  return g;
}

// The same, evaluating exp(power) itself.
template <class T>
GS_HD inline SplatGrad<T> v_splat_alpha(Sym2<T> conic, T opacity, T dx, T dy, T v_alpha) {
  return v_splat_alpha_given(conic, opacity, dx, dy, exp_(splat_power(conic, dx, dy)), v_alpha);
}

// Front-to-back accumulation at one pixel.
template <class T>
struct PixelBlend {
  T trans = T(1);
  T rgb[3] = {0, 0, 0};
  T depth = T(0);
  int32_t n_contrib = 0;  // list position after the last contributor
  bool done = false;

  // Blends the Gaussian at list position `index` with a non-zero α from splat_alpha. Sets
  // `done` (blending nothing) when it would take the transmittance below 1e-4.
  GS_HD void add(int32_t index, T alpha, const T* color, T z) {
    const T next = trans * (T(1) - alpha);
    if (next < T(kTransmittanceMin)) {
      done = true;
      return;
    }
    const T w = alpha * trans;
    rgb[0] += w * color[0];
    rgb[1] += w * color[1];
    rgb[2] += w * color[2];
    depth += w * z;
    trans = next;
    n_contrib = index + 1;
  }
};

// Back-to-front recomputation at one pixel for the backward pass. Outputs are
// C = Σ cᵢαᵢTᵢ + T_N·bg, A = 1 − T_N, D = Σ zᵢαᵢTᵢ; the state keeps the suffix sums
// Σ_{i>k} cᵢαᵢTᵢ and Σ_{i>k} zᵢαᵢTᵢ so each step is O(1).
template <class T>
struct PixelBlendGrad {
  T trans;        // Tₖ₊₁ before a step, Tₖ after it
  T trans_final;  // T_N
  T suffix_rgb[3] = {0, 0, 0};
  T suffix_depth = T(0);
  T v_rgb[3], v_alpha, v_depth;  // ∂L/∂ of this pixel's outputs
  T bg[3];

  GS_HD PixelBlendGrad(T final_trans, const T* v_rgb_px, T v_alpha_px, T v_depth_px,
                       const T* background)
      : trans(final_trans), trans_final(final_trans), v_alpha(v_alpha_px), v_depth(v_depth_px) {
    for (int c = 0; c < 3; ++c) {
      v_rgb[c] = v_rgb_px[c];
      bg[c] = background[c];
    }
  }

  // Steps back over a contributing Gaussian (α from splat_alpha, non-zero). Returns ∂L/∂α and
  // adds ∂L/∂colour (3) and ∂L/∂z into v_color and v_z.
  GS_HD T step(T alpha, const T* color, T z, T* v_color, T* v_z) {
    const T one_minus = T(1) - alpha;
    trans = trans / one_minus;  // Tₖ
    const T w = alpha * trans;
    T v_a = T(0);
    for (int c = 0; c < 3; ++c) {
      v_color[c] += w * v_rgb[c];
      v_a += v_rgb[c] * (color[c] * trans - (suffix_rgb[c] + trans_final * bg[c]) / one_minus);
      suffix_rgb[c] += color[c] * w;
    }
    *v_z += w * v_depth;
    v_a += v_alpha * trans_final / one_minus;
    v_a += v_depth * (z * trans - suffix_depth / one_minus);
    suffix_depth += z * w;
    return v_a;
  }
};

}  // namespace gs::rmath
