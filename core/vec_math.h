// Small fixed-size vectors and matrices for the per-element rasterizer math, templated on the
// scalar so gradient tests can run the same code in double. GS_HD: compiled for host and device.
#pragma once

#include <cmath>

#include "core/hd.h"

namespace gs::rmath {

// Scalar functions that resolve to the right overload on host and device.
GS_HD inline float sqrt_(float x) { return sqrtf(x); }
GS_HD inline double sqrt_(double x) { return sqrt(x); }
GS_HD inline float exp_(float x) { return expf(x); }
GS_HD inline double exp_(double x) { return exp(x); }
GS_HD inline float log_(float x) { return logf(x); }
GS_HD inline double log_(double x) { return log(x); }
GS_HD inline float ceil_(float x) { return ceilf(x); }
GS_HD inline double ceil_(double x) { return ceil(x); }
GS_HD inline float floor_(float x) { return floorf(x); }
GS_HD inline double floor_(double x) { return floor(x); }
template <class T>
GS_HD inline T min_(T a, T b) { return a < b ? a : b; }
template <class T>
GS_HD inline T max_(T a, T b) { return a > b ? a : b; }
template <class T>
GS_HD inline T abs_(T a) { return a < T(0) ? -a : a; }
template <class T>
GS_HD inline bool finite_(T x) {
#if defined(__CUDA_ARCH__)
  return isfinite(x);
#else
  return std::isfinite(x);
#endif
}

template <class T>
struct Vec2 {
  T x, y;
};
template <class T>
struct Vec3 {
  T x, y, z;
};
template <class T>
struct Vec4 {
  T w, x, y, z;  // quaternion order
};

template <class T>
GS_HD inline Vec3<T> operator+(Vec3<T> a, Vec3<T> b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
template <class T>
GS_HD inline Vec3<T> operator-(Vec3<T> a, Vec3<T> b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
template <class T>
GS_HD inline Vec3<T> operator*(T s, Vec3<T> a) { return {s * a.x, s * a.y, s * a.z}; }
template <class T>
GS_HD inline T dot(Vec3<T> a, Vec3<T> b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

// Row-major 3×3.
template <class T>
struct Mat3 {
  T m[3][3];
};
template <class T>
GS_HD inline Mat3<T> mul(const Mat3<T>& a, const Mat3<T>& b) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = a.m[i][0] * b.m[0][j] + a.m[i][1] * b.m[1][j] + a.m[i][2] * b.m[2][j];
  return r;
}
template <class T>
GS_HD inline Mat3<T> transpose(const Mat3<T>& a) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = a.m[j][i];
  return r;
}
template <class T>
GS_HD inline Vec3<T> mul(const Mat3<T>& a, Vec3<T> v) {
  return {a.m[0][0] * v.x + a.m[0][1] * v.y + a.m[0][2] * v.z,
          a.m[1][0] * v.x + a.m[1][1] * v.y + a.m[1][2] * v.z,
          a.m[2][0] * v.x + a.m[2][1] * v.y + a.m[2][2] * v.z};
}
// aᵀ v
template <class T>
GS_HD inline Vec3<T> mul_transposed(const Mat3<T>& a, Vec3<T> v) {
  return {a.m[0][0] * v.x + a.m[1][0] * v.y + a.m[2][0] * v.z,
          a.m[0][1] * v.x + a.m[1][1] * v.y + a.m[2][1] * v.z,
          a.m[0][2] * v.x + a.m[1][2] * v.y + a.m[2][2] * v.z};
}

// Symmetric 2×2 [[a, b], [b, c]]. Its gradient is stored the same way with `b` holding
// ∂L/∂b for the *shared* off-diagonal parameter (= ∂L/∂M01 + ∂L/∂M10).
template <class T>
struct Sym2 {
  T a, b, c;
};
template <class T>
GS_HD inline T det(Sym2<T> s) { return s.a * s.c - s.b * s.b; }

// 2×3 (the EWA Jacobian), row-major.
template <class T>
struct Mat23 {
  T m[2][3];
};

}  // namespace gs::rmath
