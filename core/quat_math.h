// Quaternion and opacity math shared by the rasterizer, the deformation and rigid transforms
// and densification: (w, x, y, z) quaternions, unnormalised where stored; written once, GS_HD,
// templated on the scalar so gradient tests run it in double.
#pragma once

#include "core/vec_math.h"

namespace gs::rmath {

// Opacity activation and its inverse.
template <class T>
GS_HD inline T sigmoid(T x) { return T(1) / (T(1) + exp_(-x)); }

// Rotation of an unnormalised quaternion (normalised here).
template <class T>
GS_HD inline Mat3<T> quat_to_rotmat(Vec4<T> q) {
  const T inv = T(1) / sqrt_(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  const T w = q.w * inv, x = q.x * inv, y = q.y * inv, z = q.z * inv;
  Mat3<T> r;
  r.m[0][0] = 1 - 2 * (y * y + z * z); r.m[0][1] = 2 * (x * y - w * z); r.m[0][2] = 2 * (x * z + w * y);
  r.m[1][0] = 2 * (x * y + w * z); r.m[1][1] = 1 - 2 * (x * x + z * z); r.m[1][2] = 2 * (y * z - w * x);
  r.m[2][0] = 2 * (x * z - w * y); r.m[2][1] = 2 * (y * z + w * x); r.m[2][2] = 1 - 2 * (x * x + y * y);
  return r;
}

// ∂L/∂q (unnormalised) from ∂L/∂R.
template <class T>
GS_HD inline Vec4<T> v_quat_to_rotmat(Vec4<T> q, const Mat3<T>& v) {
  const T norm = sqrt_(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  const T inv = T(1) / norm;
  const T w = q.w * inv, x = q.x * inv, y = q.y * inv, z = q.z * inv;
  const auto& g = v.m;
  // Gradient w.r.t. the normalised quaternion: Σ_ij v_ij ∂R_ij/∂(w, x, y, z).
  const T gw = 2 * (-z * g[0][1] + y * g[0][2] + z * g[1][0] - x * g[1][2] - y * g[2][0] + x * g[2][1]);
  const T gx = 2 * (y * g[0][1] + z * g[0][2] + y * g[1][0] - 2 * x * g[1][1] - w * g[1][2] +
                    z * g[2][0] + w * g[2][1] - 2 * x * g[2][2]);
  const T gy = 2 * (-2 * y * g[0][0] + x * g[0][1] + w * g[0][2] + x * g[1][0] + z * g[1][2] -
                    w * g[2][0] + z * g[2][1] - 2 * y * g[2][2]);
  const T gz = 2 * (-2 * z * g[0][0] - w * g[0][1] + x * g[0][2] + w * g[1][0] - 2 * z * g[1][1] +
                    y * g[1][2] + x * g[2][0] + y * g[2][1]);
  // Through the normalisation: (I − q̂q̂ᵀ) g / |q|.
  const T d = w * gw + x * gx + y * gy + z * gz;
  return {(gw - w * d) * inv, (gx - x * d) * inv, (gy - y * d) * inv, (gz - z * d) * inv};
}

template <class T>
GS_HD inline T logit(T p) { return log_(p / (T(1) - p)); }

// Rotation (row-major 3×3 array) of a possibly unnormalised quaternion stored as 4 scalars; a
// zero quaternion gives the identity (densification's split sampling must not see NaN).
template <class T>
GS_HD inline void quat_to_rotation(const T* q, T R[9]) {
  T w = q[0], x = q[1], y = q[2], z = q[3];
  const T n = sqrt_(w * w + x * x + y * y + z * z);
  if (n > T(0)) {
    w /= n;
    x /= n;
    y /= n;
    z /= n;
  } else {
    w = T(1);
  }
  R[0] = 1 - 2 * (y * y + z * z); R[1] = 2 * (x * y - w * z);     R[2] = 2 * (x * z + w * y);
  R[3] = 2 * (x * y + w * z);     R[4] = 1 - 2 * (x * x + z * z); R[5] = 2 * (y * z - w * x);
  R[6] = 2 * (x * z - w * y);     R[7] = 2 * (y * z + w * x);     R[8] = 1 - 2 * (x * x + y * y);
}

// Hamilton product a ⊗ b of (w, x, y, z) quaternions.
template <class T>
GS_HD inline Vec4<T> hamilton(Vec4<T> a, Vec4<T> b) {
  return {a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
          a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
          a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
          a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w};
}
template <class T>
GS_HD inline Vec4<T> conjugate(Vec4<T> a) { return {a.w, -a.x, -a.y, -a.z}; }
// The unit (w, x, y, z) quaternion of a rotation matrix (row-major 3×3), by Shepperd's method
// (the largest of the four candidate divisors, so no branch loses precision). Host-side: for
// converting pose files and boxes.
template <class T>
inline void rotation_to_quat(const T r[9], T q[4]) {
  const T tr = r[0] + r[4] + r[8];
  if (tr > 0) {
    const T s = sqrt_(tr + T(1)) * 2;
    q[0] = s / 4, q[1] = (r[7] - r[5]) / s, q[2] = (r[2] - r[6]) / s, q[3] = (r[3] - r[1]) / s;
  } else if (r[0] > r[4] && r[0] > r[8]) {
    const T s = sqrt_(T(1) + r[0] - r[4] - r[8]) * 2;
    q[0] = (r[7] - r[5]) / s, q[1] = s / 4, q[2] = (r[1] + r[3]) / s, q[3] = (r[2] + r[6]) / s;
  } else if (r[4] > r[8]) {
    const T s = sqrt_(T(1) + r[4] - r[0] - r[8]) * 2;
    q[0] = (r[2] - r[6]) / s, q[1] = (r[1] + r[3]) / s, q[2] = s / 4, q[3] = (r[5] + r[7]) / s;
  } else {
    const T s = sqrt_(T(1) + r[8] - r[0] - r[4]) * 2;
    q[0] = (r[3] - r[1]) / s, q[1] = (r[2] + r[6]) / s, q[2] = (r[5] + r[7]) / s, q[3] = s / 4;
  }
  const T n = sqrt_(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (int k = 0; k < 4; ++k) q[k] /= n;
}

}  // namespace gs::rmath
