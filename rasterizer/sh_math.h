// Real spherical harmonics up to degree 3 (the standard 3DGS constants and sign convention):
// the basis at a unit direction, its gradient w.r.t. the direction, and SH → colour with its
// backward. GS_HD, templated on the scalar.
#pragma once

#include "core/vec_math.h"

namespace gs::rmath {

constexpr double kShC0 = 0.28209479177387814;
constexpr double kShC1 = 0.4886025119029199;
// Scalars rather than arrays so device code can use them as constants.
constexpr double kShC2_0 = 1.0925484305920792, kShC2_1 = -1.0925484305920792,
                 kShC2_2 = 0.31539156525252005, kShC2_3 = -1.0925484305920792,
                 kShC2_4 = 0.5462742152960396;
constexpr double kShC3_0 = -0.5900435899266435, kShC3_1 = 2.890611442640554,
                 kShC3_2 = -0.4570457994644658, kShC3_3 = 0.3731763325901154,
                 kShC3_4 = -0.4570457994644658, kShC3_5 = 1.445305721320277,
                 kShC3_6 = -0.5900435899266435;

// Y_k(d) for k < (degree+1)², d a unit vector.
template <class T>
GS_HD inline void sh_basis(int degree, Vec3<T> d, T* y) {
  y[0] = T(kShC0);
  if (degree < 1) return;
  const T x = d.x, yy = d.y, z = d.z;
  y[1] = -T(kShC1) * yy;
  y[2] = T(kShC1) * z;
  y[3] = -T(kShC1) * x;
  if (degree < 2) return;
  const T xx = x * x, y2 = yy * yy, zz = z * z;
  y[4] = T(kShC2_0) * x * yy;
  y[5] = T(kShC2_1) * yy * z;
  y[6] = T(kShC2_2) * (2 * zz - xx - y2);
  y[7] = T(kShC2_3) * x * z;
  y[8] = T(kShC2_4) * (xx - y2);
  if (degree < 3) return;
  y[9] = T(kShC3_0) * yy * (3 * xx - y2);
  y[10] = T(kShC3_1) * x * yy * z;
  y[11] = T(kShC3_2) * yy * (4 * zz - xx - y2);
  y[12] = T(kShC3_3) * z * (2 * zz - 3 * xx - 3 * y2);
  y[13] = T(kShC3_4) * x * (4 * zz - xx - y2);
  y[14] = T(kShC3_5) * z * (xx - y2);
  y[15] = T(kShC3_6) * x * (xx - 3 * y2);
}

// Σ_k v_y[k] ∂Y_k/∂d, treating the components of d as independent.
template <class T>
GS_HD inline Vec3<T> v_sh_basis(int degree, Vec3<T> d, const T* v_y) {
  Vec3<T> g = {0, 0, 0};
  if (degree < 1) return g;
  const T x = d.x, y = d.y, z = d.z;
  g.x += -T(kShC1) * v_y[3];
  g.y += -T(kShC1) * v_y[1];
  g.z += T(kShC1) * v_y[2];
  if (degree < 2) return g;
  const T xx = x * x, yy = y * y, zz = z * z;
  const T a = T(kShC2_0), b = T(kShC2_1), c = T(kShC2_2), e = T(kShC2_3), f = T(kShC2_4);
  g.x += a * y * v_y[4] - 2 * c * x * v_y[6] + e * z * v_y[7] + 2 * f * x * v_y[8];
  g.y += a * x * v_y[4] + b * z * v_y[5] - 2 * c * y * v_y[6] - 2 * f * y * v_y[8];
  g.z += b * y * v_y[5] + 4 * c * z * v_y[6] + e * x * v_y[7];
  if (degree < 3) return g;
  const T k0 = T(kShC3_0), k1 = T(kShC3_1), k2 = T(kShC3_2), k3 = T(kShC3_3);
  const T k4 = T(kShC3_4), k5 = T(kShC3_5), k6 = T(kShC3_6);
  g.x += 6 * k0 * x * y * v_y[9] + k1 * y * z * v_y[10] - 2 * k2 * x * y * v_y[11] -
         6 * k3 * x * z * v_y[12] + k4 * (4 * zz - 3 * xx - yy) * v_y[13] +
         2 * k5 * x * z * v_y[14] + 3 * k6 * (xx - yy) * v_y[15];
  g.y += 3 * k0 * (xx - yy) * v_y[9] + k1 * x * z * v_y[10] + k2 * (4 * zz - xx - 3 * yy) * v_y[11] -
         6 * k3 * y * z * v_y[12] - 2 * k4 * x * y * v_y[13] - 2 * k5 * y * z * v_y[14] -
         6 * k6 * x * y * v_y[15];
  g.z += k1 * x * y * v_y[10] + 8 * k2 * y * z * v_y[11] + k3 * (6 * zz - 3 * xx - 3 * yy) * v_y[12] +
         8 * k4 * x * z * v_y[13] + k5 * (xx - yy) * v_y[14];
  return g;
}

// Colour of one Gaussian: max(0, Σ_k Y_k(dir) sh[k] + 0.5) over the active coefficients;
// sh is [k][rgb]; dir = mean − campos (normalised here).
template <class T>
GS_HD inline Vec3<T> sh_to_color(int active_degree, const T* sh, Vec3<T> dir) {
  const T inv = T(1) / sqrt_(dot(dir, dir));
  T y[16];
  sh_basis(active_degree, inv * dir, y);
  T rgb[3] = {T(0.5), T(0.5), T(0.5)};
  const int k_count = (active_degree + 1) * (active_degree + 1);
  for (int k = 0; k < k_count; ++k)
    for (int ch = 0; ch < 3; ++ch) rgb[ch] += y[k] * sh[k * 3 + ch];
  return {max_(rgb[0], T(0)), max_(rgb[1], T(0)), max_(rgb[2], T(0))};
}

// Backward of sh_to_color: writes v_sh for the active coefficients ([k][rgb]) and returns
// ∂L/∂dir (dir unnormalised). Channels that were clamped pass no gradient.
template <class T>
GS_HD inline Vec3<T> v_sh_to_color(int active_degree, const T* sh, Vec3<T> dir, Vec3<T> v_color,
                                   T* v_sh) {
  const T norm = sqrt_(dot(dir, dir));
  const T inv = T(1) / norm;
  const Vec3<T> d = inv * dir;
  T y[16];
  sh_basis(active_degree, d, y);
  const int k_count = (active_degree + 1) * (active_degree + 1);
  T raw[3] = {T(0.5), T(0.5), T(0.5)};
  for (int k = 0; k < k_count; ++k)
    for (int ch = 0; ch < 3; ++ch) raw[ch] += y[k] * sh[k * 3 + ch];
  const T vc[3] = {raw[0] < T(0) ? T(0) : v_color.x, raw[1] < T(0) ? T(0) : v_color.y,
                   raw[2] < T(0) ? T(0) : v_color.z};
  T v_y[16];
  for (int k = 0; k < k_count; ++k) {
    v_y[k] = 0;
    for (int ch = 0; ch < 3; ++ch) {
      v_sh[k * 3 + ch] = y[k] * vc[ch];
      v_y[k] += sh[k * 3 + ch] * vc[ch];
    }
  }
  const Vec3<T> g = v_sh_basis(active_degree, d, v_y);
  // Through the normalisation: (I − d dᵀ) g / |dir|.
  const T gd = dot(g, d);
  return inv * (g - gd * d);
}

}  // namespace gs::rmath
