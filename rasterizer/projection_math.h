// Per-Gaussian projection math and its hand-written backward (DESIGN.md §3): quaternion →
// rotation, 3D covariance, world → view, EWA projection with the 1.3×FOV clamp, 0.3 dilation,
// antialias compensation, conic, opacity-aware extent and the tile–ellipse test. Written once,
// GS_HD, templated on the scalar; `v_` functions map output gradients to input gradients.
#pragma once

#include "core/quat_math.h"
#include "core/vec_math.h"

namespace gs::rmath {

constexpr double kCovDilation = 0.3;     // added to Σ2D's diagonal (pixels²)
constexpr double kFovClampFactor = 1.3;  // x/z, y/z clamped to 1.3× the half field of view
constexpr double kAlphaMin = 1.0 / 255.0;

// ---- 3D covariance Σ = R S Sᵀ Rᵀ, S = diag(exp(log_scale)) ----

template <class T>
GS_HD inline Mat3<T> covariance_3d(Vec3<T> log_scale, Vec4<T> q) {
  Mat3<T> m = quat_to_rotmat(q);
  const T s[3] = {exp_(log_scale.x), exp_(log_scale.y), exp_(log_scale.z)};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m.m[i][j] *= s[j];
  return mul(m, transpose(m));
}

// From ∂L/∂Σ (entries treated as independent) to ∂L/∂log_scale and ∂L/∂q.
template <class T>
GS_HD inline void v_covariance_3d(Vec3<T> log_scale, Vec4<T> q, const Mat3<T>& v_cov,
                                  Vec3<T>* v_log_scale, Vec4<T>* v_q) {
  const Mat3<T> r = quat_to_rotmat(q);
  const T s[3] = {exp_(log_scale.x), exp_(log_scale.y), exp_(log_scale.z)};
  Mat3<T> m = r, g;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      m.m[i][j] *= s[j];
      g.m[i][j] = v_cov.m[i][j] + v_cov.m[j][i];
    }
  const Mat3<T> v_m = mul(g, m);  // ∂L/∂M for Σ = M Mᵀ
  Mat3<T> v_r;
  T v_s[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      v_r.m[i][j] = v_m.m[i][j] * s[j];
      v_s[j] += v_m.m[i][j] * r.m[i][j];
    }
  *v_log_scale = {v_s[0] * s[0], v_s[1] * s[1], v_s[2] * s[2]};
  *v_q = v_quat_to_rotmat(q, v_r);
}

// Σ_view = W Σ Wᵀ and its backward ∂L/∂Σ = Wᵀ (∂L/∂Σ_view) W.
template <class T>
GS_HD inline Mat3<T> rotate_covariance(const Mat3<T>& w, const Mat3<T>& cov) {
  return mul(mul(w, cov), transpose(w));
}
template <class T>
GS_HD inline Mat3<T> v_rotate_covariance(const Mat3<T>& w, const Mat3<T>& v_cov_view) {
  return mul(mul(transpose(w), v_cov_view), w);
}

// ---- camera ----

// What projection needs of a camera, in the kernel's scalar type (device-copyable).
template <class T>
struct ProjCamera {
  Mat3<T> rot;  // world → camera
  Vec3<T> trans;
  T fx, fy, cx, cy;
  // Clamp limits for x/z and y/z: kFovClampFactor × the half field of view on each side
  // (asymmetric when the principal point is off-centre).
  T lim_x_pos, lim_x_neg, lim_y_pos, lim_y_neg;
  int width, height;
};

// ---- EWA: view-space mean and covariance → pixel mean and 2D covariance (undilated) ----

template <class T>
GS_HD inline bool fov_clamped(T u, T lim_neg, T lim_pos) { return u < -lim_neg || u > lim_pos; }

template <class T>
GS_HD inline Mat23<T> ewa_jacobian(const ProjCamera<T>& c, Vec3<T> t) {
  const T rz = T(1) / t.z;
  const T u = min_(max_(t.x * rz, -c.lim_x_neg), c.lim_x_pos);
  const T v = min_(max_(t.y * rz, -c.lim_y_neg), c.lim_y_pos);
  Mat23<T> j;
  j.m[0][0] = c.fx * rz; j.m[0][1] = 0; j.m[0][2] = -c.fx * u * rz;
  j.m[1][0] = 0; j.m[1][1] = c.fy * rz; j.m[1][2] = -c.fy * v * rz;
  return j;
}

template <class T>
GS_HD inline Vec2<T> project_mean(const ProjCamera<T>& c, Vec3<T> t) {
  return {c.fx * t.x / t.z + c.cx, c.fy * t.y / t.z + c.cy};
}

// J Σv Jᵀ
template <class T>
GS_HD inline Sym2<T> project_covariance(const Mat23<T>& j, const Mat3<T>& cv) {
  T jc[2][3];
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < 3; ++k) jc[r][k] = j.m[r][0] * cv.m[0][k] + j.m[r][1] * cv.m[1][k] + j.m[r][2] * cv.m[2][k];
  Sym2<T> s;
  s.a = jc[0][0] * j.m[0][0] + jc[0][1] * j.m[0][1] + jc[0][2] * j.m[0][2];
  s.b = jc[0][0] * j.m[1][0] + jc[0][1] * j.m[1][1] + jc[0][2] * j.m[1][2];
  s.c = jc[1][0] * j.m[1][0] + jc[1][1] * j.m[1][1] + jc[1][2] * j.m[1][2];
  return s;
}

// Backward of mean2d = project_mean(t) and cov2d = J(t) Σv J(t)ᵀ: accumulates ∂L/∂t into v_t
// and returns ∂L/∂Σv.
template <class T>
GS_HD inline Mat3<T> v_project_ewa(const ProjCamera<T>& c, Vec3<T> t, const Mat3<T>& cv,
                                   Vec2<T> v_mean2d, Sym2<T> v_cov2d, Vec3<T>* v_t) {
  const T rz = T(1) / t.z, rz2 = rz * rz;
  // mean2d
  v_t->x += c.fx * rz * v_mean2d.x;
  v_t->y += c.fy * rz * v_mean2d.y;
  v_t->z -= (c.fx * t.x * v_mean2d.x + c.fy * t.y * v_mean2d.y) * rz2;
  // cov2d: G = ∂L/∂cov2d as a symmetric matrix; ∂L/∂J = 2 G J Σv, ∂L/∂Σv = Jᵀ G J.
  const Mat23<T> j = ewa_jacobian(c, t);
  const T g[2][2] = {{v_cov2d.a, v_cov2d.b * T(0.5)}, {v_cov2d.b * T(0.5), v_cov2d.c}};
  T gj[2][3];
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < 3; ++k) gj[r][k] = g[r][0] * j.m[0][k] + g[r][1] * j.m[1][k];
  Mat3<T> v_cv;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) v_cv.m[a][b] = j.m[0][a] * gj[0][b] + j.m[1][a] * gj[1][b];
  T v_j[2][3];
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < 3; ++k)
      v_j[r][k] = 2 * (gj[r][0] * cv.m[0][k] + gj[r][1] * cv.m[1][k] + gj[r][2] * cv.m[2][k]);
  // J00 = fx/z, J11 = fy/z, J02 = −fx·u/z, J12 = −fy·v/z with u = clamp(x/z), v = clamp(y/z);
  // a clamped u no longer depends on x or z.
  v_t->z -= (c.fx * v_j[0][0] + c.fy * v_j[1][1]) * rz2;
  const T u = t.x * rz, v = t.y * rz;
  const bool cu = fov_clamped(u, c.lim_x_neg, c.lim_x_pos);
  const bool cvv = fov_clamped(v, c.lim_y_neg, c.lim_y_pos);
  const T uc = min_(max_(u, -c.lim_x_neg), c.lim_x_pos);
  const T vc = min_(max_(v, -c.lim_y_neg), c.lim_y_pos);
  // ∂J02/∂z = fx·uc/z² − (fx/z)·∂u/∂z with ∂u/∂z = −u/z; ∂J02/∂x = −(fx/z)·(1/z).
  v_t->z += c.fx * uc * rz2 * v_j[0][2] + c.fy * vc * rz2 * v_j[1][2];
  if (!cu) {
    v_t->z += c.fx * u * rz2 * v_j[0][2];
    v_t->x -= c.fx * rz2 * v_j[0][2];
  }
  if (!cvv) {
    v_t->z += c.fy * v * rz2 * v_j[1][2];
    v_t->y -= c.fy * rz2 * v_j[1][2];
  }
  return v_cv;
}

// ---- dilation, antialias compensation, conic ----

template <class T>
GS_HD inline Sym2<T> dilate(Sym2<T> s) {
  return {s.a + T(kCovDilation), s.b, s.c + T(kCovDilation)};
}

// sqrt(det Σ2D / det(Σ2D + 0.3 I)): the opacity scale that keeps a small splat's energy when
// the dilation widens it.
template <class T>
GS_HD inline T antialias_compensation(Sym2<T> cov) {
  const T r = det(cov) / det(dilate(cov));
  return sqrt_(max_(r, T(0)));
}
// ∂L/∂cov (Sym2 convention) from ∂L/∂compensation.
template <class T>
GS_HD inline Sym2<T> v_antialias_compensation(Sym2<T> cov, T v_comp) {
  const T d0 = det(cov);
  const Sym2<T> dil = dilate(cov);
  const T d1 = det(dil);
  const T r = d0 / d1;
  if (!(r > T(0))) return {0, 0, 0};
  const T v_r = v_comp * T(0.5) / sqrt_(r);
  const T rd1 = T(1) / d1;
  // r = d0/d1, ∂d0/∂a = c, ∂d1/∂a = c+0.3, ∂d0/∂b = −2b = ∂d1/∂b.
  return {v_r * (cov.c - r * dil.c) * rd1, v_r * (T(-2) * cov.b + r * T(2) * cov.b) * rd1,
          v_r * (cov.a - r * dil.a) * rd1};
}

template <class T>
GS_HD inline Sym2<T> inverse(Sym2<T> s) {
  const T inv = T(1) / det(s);
  return {s.c * inv, -s.b * inv, s.a * inv};
}
// ∂L/∂M from ∂L/∂M⁻¹ (both Sym2 convention): −M⁻¹ G M⁻¹.
template <class T>
GS_HD inline Sym2<T> v_inverse(Sym2<T> inv, Sym2<T> v_inv) {
  const T g01 = v_inv.b * T(0.5);
  // (M⁻¹ G) then × M⁻¹, symmetric result.
  const T p00 = inv.a * v_inv.a + inv.b * g01, p01 = inv.a * g01 + inv.b * v_inv.c;
  const T p10 = inv.b * v_inv.a + inv.c * g01, p11 = inv.b * g01 + inv.c * v_inv.c;
  const T r00 = p00 * inv.a + p01 * inv.b;
  const T r01 = p00 * inv.b + p01 * inv.c;
  const T r11 = p10 * inv.b + p11 * inv.c;
  return {-r00, T(-2) * r01, -r11};
}

// ---- screen extent ----

// Squared Mahalanobis distance up to which a Gaussian of opacity o can reach alpha ≥ 1/255:
// o·exp(−d²/2) ≥ 1/255 ⇔ d² ≤ 2 ln(255 o). Not positive when it can never be seen.
template <class T>
GS_HD inline T extent_sq(T opacity) {
  return T(2) * log_(opacity * T(255));
}

// Tile rectangle [x0, x1) × [y0, y1) of the pixels whose centres lie within the half extents
// (ex, ey) of mean2d, clamped to the image. Empty when x0 >= x1 or y0 >= y1. Computed in T
// before conversion so huge or far-off splats never overflow an int.
struct TileRect {
  int x0, y0, x1, y1;
  GS_HD int count() const { return (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0; }
};
template <class T>
GS_HD inline TileRect tile_rect(Vec2<T> m, T ex, T ey, int width, int height, int tile) {
  // Pixel i is covered when |i + 0.5 − m| ≤ e.
  const T px0 = max_(ceil_(m.x - ex - T(0.5)), T(0));
  const T px1 = min_(floor_(m.x + ex - T(0.5)), T(width - 1));
  const T py0 = max_(ceil_(m.y - ey - T(0.5)), T(0));
  const T py1 = min_(floor_(m.y + ey - T(0.5)), T(height - 1));
  if (!(px0 <= px1) || !(py0 <= py1)) return {0, 0, 0, 0};
  return {int(px0) / tile, int(py0) / tile, int(px1) / tile + 1, int(py1) / tile + 1};
}

// Min over t ∈ [lo, hi] of a·t² + 2·b·t·s + c·s² for fixed s (c > 0): one edge of the box.
template <class T>
GS_HD inline T edge_min_quadratic(T a, T b, T c, T s, T lo, T hi) {
  const T t = min_(max_(-b * s / a, lo), hi);
  return a * t * t + T(2) * b * t * s + c * s * s;
}

// Does the ellipse dᵀ conic d ≤ ext_sq around m reach a pixel centre of tile (tx, ty)?
// Exact for the box spanned by the tile's pixel centres (clamped to the image).
template <class T>
GS_HD inline bool ellipse_touches_tile(Vec2<T> m, Sym2<T> conic, T ext_sq, int tx, int ty,
                                       int width, int height, int tile) {
  const T x0 = T(tx * tile) + T(0.5) - m.x;
  const T x1 = T(min_(tx * tile + tile, width) - 1) + T(0.5) - m.x;
  const T y0 = T(ty * tile) + T(0.5) - m.y;
  const T y1 = T(min_(ty * tile + tile, height) - 1) + T(0.5) - m.y;
  if (x0 <= 0 && x1 >= 0 && y0 <= 0 && y1 >= 0) return true;
  // The centre is outside the box, so the convex form's minimum over it lies on an edge.
  T q = edge_min_quadratic(conic.c, conic.b, conic.a, x0, y0, y1);  // x = x0 edge, over y
  q = min_(q, edge_min_quadratic(conic.c, conic.b, conic.a, x1, y0, y1));
  q = min_(q, edge_min_quadratic(conic.a, conic.b, conic.c, y0, x0, x1));
  q = min_(q, edge_min_quadratic(conic.a, conic.b, conic.c, y1, x0, x1));
  return q <= ext_sq;
}

// ---- the whole per-Gaussian projection ----

template <class T>
struct ProjectedGaussian {
  Vec2<T> mean2d;
  Sym2<T> conic;
  T opacity;  // effective: sigmoid(logit) × compensation
  T depth;    // camera z
  T ext_sq;   // extent_sq(opacity)
  T ext_x, ext_y;  // half extents in pixels
};

// Projects one Gaussian; false when it is culled (z < near, degenerate, invisible opacity or
// non-finite results). Inputs are assumed finite (checked by the caller, which counts them).
template <class T>
GS_HD inline bool project_gaussian(const ProjCamera<T>& c, Vec3<T> mean, Vec3<T> log_scale,
                                   Vec4<T> quat, T opacity_logit, bool antialias, T near_plane,
                                   ProjectedGaussian<T>* out) {
  const Vec3<T> t = mul(c.rot, mean) + c.trans;
  if (!(t.z >= near_plane)) return false;
  if (!(quat.w * quat.w + quat.x * quat.x + quat.y * quat.y + quat.z * quat.z > T(0))) return false;
  const Mat3<T> cov_view = rotate_covariance(c.rot, covariance_3d(log_scale, quat));
  const Sym2<T> cov = project_covariance(ewa_jacobian(c, t), cov_view);
  const Sym2<T> cov_d = dilate(cov);
  const T d = det(cov_d);
  if (!(d > T(0)) || !finite_(d)) return false;
  T opacity = sigmoid(opacity_logit);
  if (antialias) opacity *= antialias_compensation(cov);
  if (!(opacity >= T(kAlphaMin))) return false;
  out->mean2d = project_mean(c, t);
  out->conic = inverse(cov_d);
  out->opacity = opacity;
  out->depth = t.z;
  out->ext_sq = extent_sq(opacity);
  const T r = sqrt_(max_(out->ext_sq, T(0)));
  out->ext_x = r * sqrt_(cov_d.a);
  out->ext_y = r * sqrt_(cov_d.c);
  return finite_(out->mean2d.x) && finite_(out->mean2d.y) && finite_(out->conic.a) &&
         finite_(out->conic.b) && finite_(out->conic.c) && finite_(out->ext_x) &&
         finite_(out->ext_y);
}

// Backward of project_gaussian for a visible Gaussian: from ∂L/∂(mean2d, conic, opacity,
// depth) to ∂L/∂(mean, log_scale, quat, opacity_logit). Recomputes the forward intermediates.
template <class T>
GS_HD inline void v_project_gaussian(const ProjCamera<T>& c, Vec3<T> mean, Vec3<T> log_scale,
                                     Vec4<T> quat, T opacity_logit, bool antialias,
                                     Vec2<T> v_mean2d, Sym2<T> v_conic, T v_opacity, T v_depth,
                                     Vec3<T>* v_mean, Vec3<T>* v_log_scale, Vec4<T>* v_quat,
                                     T* v_opacity_logit) {
  const Vec3<T> t = mul(c.rot, mean) + c.trans;
  const Mat3<T> cov_view = rotate_covariance(c.rot, covariance_3d(log_scale, quat));
  const Sym2<T> cov = project_covariance(ewa_jacobian(c, t), cov_view);
  const Sym2<T> cov_d = dilate(cov);
  const T sig = sigmoid(opacity_logit);
  // opacity = sig · comp
  Sym2<T> v_cov = v_inverse(inverse(cov_d), v_conic);  // dilation adds a constant
  if (antialias) {
    const T comp = antialias_compensation(cov);
    *v_opacity_logit = v_opacity * comp * sig * (T(1) - sig);
    const Sym2<T> vc = v_antialias_compensation(cov, v_opacity * sig);
    v_cov = {v_cov.a + vc.a, v_cov.b + vc.b, v_cov.c + vc.c};
  } else {
    *v_opacity_logit = v_opacity * sig * (T(1) - sig);
  }
  Vec3<T> v_t = {0, 0, v_depth};
  const Mat3<T> v_cov_view = v_project_ewa(c, t, cov_view, v_mean2d, v_cov, &v_t);
  *v_mean = mul_transposed(c.rot, v_t);
  v_covariance_3d(log_scale, quat, v_rotate_covariance(c.rot, v_cov_view), v_log_scale, v_quat);
}

}  // namespace gs::rmath
