// The image loss written once for both backends: the per-pixel SSIM math (GS_HD, templated on
// the scalar so tests can run it in double) and the four separable-filter passes. Included by
// loss_cpu.cpp and loss_cuda.cu, which differ only in how they sum (the `Sum` policy).
//
// SSIM backward. With x = rendered, y = target, G the 2D window and * zero-padded filtering,
// S_p depends on x only through the filtered maps μx = G*x, Exx = G*x², Exy = G*(x·y). Each of
// them is linear in x with weight G(p − q), so
//   ∂(Σ_p S_p)/∂x_q = (G*A)_q + 2·x_q·(G*B)_q + y_q·(G*C)_q,
// where A, B, C are the per-pixel partials ∂S_p/∂μx, ∂S_p/∂Exx, ∂S_p/∂Exy (G is symmetric, so
// the adjoint of the filter is the same filter, zero padding included: pixels outside the image
// have no S_p to contribute). The backward is thus one more separable filtering of three maps.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/device.h"
#include "core/hd.h"
#include "core/parallel_for.h"
#include "optim/loss.h"

namespace gs::loss_math {

constexpr int kTaps = 2 * kSsimRadius + 1;

// The normalised 1D Gaussian; the 2D window is its outer product (as in 3DGS), so every 2D
// filtering is a row pass followed by a column pass. Passed to kernels by value.
template <class T>
struct Window {
  T w[kTaps];
};

template <class T>
inline Window<T> ssim_window() {
  double g[kTaps];
  double sum = 0;
  for (int k = 0; k < kTaps; ++k) {
    const double d = k - kSsimRadius;
    g[k] = std::exp(-d * d / (2 * kSsimSigma * kSsimSigma));
    sum += g[k];
  }
  Window<T> out{};
  for (int k = 0; k < kTaps; ++k) out.w[k] = T(g[k] / sum);
  return out;
}

// SSIM at one pixel from its filtered moments, and its partials with respect to the three maps
// that depend on the rendered image (μy and Eyy depend on the target only).
template <class T>
struct SsimPoint {
  T s;       // SSIM
  T d_mu_x;  // ∂S/∂μx (through the means and through the variances' −μ² terms)
  T d_xx;    // ∂S/∂E[x²]
  T d_xy;    // ∂S/∂E[xy]
};

template <class T>
GS_HD inline SsimPoint<T> ssim_point(T mu_x, T mu_y, T e_xx, T e_yy, T e_xy, T c1, T c2) {
  const T var_x = e_xx - mu_x * mu_x;
  const T var_y = e_yy - mu_y * mu_y;
  const T cov = e_xy - mu_x * mu_y;
  const T n1 = T(2) * mu_x * mu_y + c1;
  const T n2 = T(2) * cov + c2;
  const T d1 = mu_x * mu_x + mu_y * mu_y + c1;
  const T d2 = var_x + var_y + c2;
  const T inv_d = T(1) / (d1 * d2);
  SsimPoint<T> p;
  p.s = n1 * n2 * inv_d;
  // S = n1·n2/(d1·d2); Exx enters d2 only, Exy enters n2 only (with factor 2), μx enters n1
  // (2μy), n2 (−2μy), d1 (2μx) and d2 (−2μx).
  p.d_xx = -p.s / d2;
  p.d_xy = T(2) * n1 * inv_d;
  p.d_mu_x = T(2) * mu_y * (n2 - n1) * inv_d - T(2) * mu_x * (p.s / d1 + p.d_xx);
  return p;
}

// Sub-gradient of |d| as torch defines it: 0 at 0.
template <class T>
GS_HD inline T sign_of(T d) {
  return d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
}

// Pixel column and row of element i of an H×W×3 image, in 32-bit arithmetic (64-bit division
// is slow everywhere and emulated on GPUs); the dispatchers refuse images of 2³² elements.
GS_HD inline int column_of(size_t i, int width) {
  return int((uint32_t(i) / 3u) % uint32_t(width));
}
GS_HD inline int row_of(size_t i, int width) {
  return int(uint32_t(i) / (3u * uint32_t(width)));
}

// Tap range [lo, hi] of the window around position `pos` in [0, size): taps that fall outside
// read the zero padding and are skipped.
GS_HD inline int first_tap(int pos) {
  return pos < kSsimRadius ? -pos : -kSsimRadius;
}
GS_HD inline int last_tap(int pos, int size) {
  return size - 1 - pos < kSsimRadius ? size - 1 - pos : kSsimRadius;
}

}  // namespace gs::loss_math

// The passes call parallel_for, whose body differs per backend: a backend-specific inline
// namespace keeps the two instantiations distinct symbols (no ODR clash at link time).
#if defined(__CUDACC__)
#define GS_LOSS_BACKEND_NS cuda_backend
#else
#define GS_LOSS_BACKEND_NS host_backend
#endif

namespace gs::loss_passes {
inline namespace GS_LOSS_BACKEND_NS {

using loss_math::Window;

// Five filtered moments of (x, y): μx, μy, E[x²], E[y²], E[xy].
template <class T>
struct Moments {
  T* mu_x;
  T* mu_y;
  T* xx;
  T* yy;
  T* xy;
};
// The three SSIM partials (or their filtered versions); null pointers mean "not needed".
template <class T>
struct Partials {
  T* mu_x;
  T* xx;
  T* xy;
};
// The workspace maps (LossWorkspace::kLossMaps of them), H×W×3 each.
template <class T>
struct LossMaps {
  T* map[LossWorkspace::kLossMaps];
};

// Images are H×W×3 interleaved: element i is channel i % 3 of pixel i / 3, and a row of the
// image is 3·W elements. Horizontal neighbours are ±3 elements, vertical ones ±3·W.

// Pass 1: the moments filtered along rows.
template <class T>
void filter_moments_rows(const Device& device, int width, int height, const T* x, const T* y,
                         Window<T> win, Moments<T> out) {
  const size_t n = size_t(width) * size_t(height) * 3;
  parallel_for(device, n, [=] GS_HD(size_t i) {
    const int px = loss_math::column_of(i, width);
    const int lo = loss_math::first_tap(px), hi = loss_math::last_tap(px, width);
    const T* xi = x + i;
    const T* yi = y + i;
    T mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
    for (int k = lo; k <= hi; ++k) {
      const T w = win.w[k + kSsimRadius];
      const T a = xi[3 * k], b = yi[3 * k];
      mx += w * a;
      my += w * b;
      xx += w * a * a;
      yy += w * b * b;
      xy += w * a * b;
    }
    out.mu_x[i] = mx;
    out.mu_y[i] = my;
    out.xx[i] = xx;
    out.yy[i] = yy;
    out.xy[i] = xy;
  });
}

// Pass 2: the column filter completes the 2D moments; returns Σ SSIM and, when `partials` is
// not null, stores the per-pixel partials A, B, C for the backward pass.
template <class T, class Sum>
double ssim_columns(const Device& device, int width, int height, Moments<T> rows, Window<T> win,
                    Partials<T> partials, const Sum& sum) {
  const size_t n = size_t(width) * size_t(height) * 3;
  const ptrdiff_t stride = ptrdiff_t(width) * 3;
  const T c1 = T(kSsimC1), c2 = T(kSsimC2);
  return sum(device, n, [=] GS_HD(size_t i) -> double {
    const int py = loss_math::row_of(i, width);
    const int lo = loss_math::first_tap(py), hi = loss_math::last_tap(py, height);
    T mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
    for (int k = lo; k <= hi; ++k) {
      const T w = win.w[k + kSsimRadius];
      const ptrdiff_t j = ptrdiff_t(i) + k * stride;
      mx += w * rows.mu_x[j];
      my += w * rows.mu_y[j];
      xx += w * rows.xx[j];
      yy += w * rows.yy[j];
      xy += w * rows.xy[j];
    }
    const loss_math::SsimPoint<T> p = loss_math::ssim_point(mx, my, xx, yy, xy, c1, c2);
    if (partials.mu_x) {
      partials.mu_x[i] = p.d_mu_x;
      partials.xx[i] = p.d_xx;
      partials.xy[i] = p.d_xy;
    }
    return double(p.s);
  });
}

// Pass 3 (backward): the partials filtered along rows.
template <class T>
void filter_partials_rows(const Device& device, int width, int height, Partials<T> in,
                          Window<T> win, Partials<T> out) {
  const size_t n = size_t(width) * size_t(height) * 3;
  parallel_for(device, n, [=] GS_HD(size_t i) {
    const int px = loss_math::column_of(i, width);
    const int lo = loss_math::first_tap(px), hi = loss_math::last_tap(px, width);
    T a = 0, b = 0, c = 0;
    for (int k = lo; k <= hi; ++k) {
      const T w = win.w[k + kSsimRadius];
      const ptrdiff_t j = ptrdiff_t(i) + 3 * k;
      a += w * in.mu_x[j];
      b += w * in.xx[j];
      c += w * in.xy[j];
    }
    out.mu_x[i] = a;
    out.xx[i] = b;
    out.xy[i] = c;
  });
}

// Pass 4 (backward): the column filter completes G*A, G*B, G*C and the gradient of the loss
// is written; returns Σ|x − y| (the L1 term comes for free here).
//   ∂loss/∂x = l1_scale·sign(x − y) + ssim_scale·((G*A) + 2x·(G*B) + y·(G*C)),
// with l1_scale = (1−λ)/N and ssim_scale = ∂loss/∂S_p = −λ/N.
template <class T, class Sum>
double loss_gradient_columns(const Device& device, int width, int height, const T* x, const T* y,
                             Partials<T> rows, Window<T> win, T l1_scale, T ssim_scale, T* v_x,
                             const Sum& sum) {
  const size_t n = size_t(width) * size_t(height) * 3;
  const ptrdiff_t stride = ptrdiff_t(width) * 3;
  return sum(device, n, [=] GS_HD(size_t i) -> double {
    const int py = loss_math::row_of(i, width);
    const int lo = loss_math::first_tap(py), hi = loss_math::last_tap(py, height);
    T a = 0, b = 0, c = 0;
    for (int k = lo; k <= hi; ++k) {
      const T w = win.w[k + kSsimRadius];
      const ptrdiff_t j = ptrdiff_t(i) + k * stride;
      a += w * rows.mu_x[j];
      b += w * rows.xx[j];
      c += w * rows.xy[j];
    }
    const T xi = x[i], yi = y[i];
    const T d = xi - yi;
    v_x[i] = l1_scale * loss_math::sign_of(d) + ssim_scale * (a + T(2) * xi * b + yi * c);
    return double(d < T(0) ? -d : d);
  });
}

template <class T, class Sum>
double abs_diff_sum(const Device& device, size_t n, const T* x, const T* y, const Sum& sum) {
  return sum(device, n, [=] GS_HD(size_t i) -> double {
    const T d = x[i] - y[i];
    return double(d < T(0) ? -d : d);
  });
}

template <class T, class Sum>
double squared_diff_sum(const Device& device, size_t n, const T* x, const T* y, const Sum& sum) {
  return sum(device, n, [=] GS_HD(size_t i) -> double {
    const double d = double(x[i]) - double(y[i]);
    return d * d;
  });
}

// The whole loss: forward, and backward into v_x when it is not null. `maps` holds
// LossWorkspace::kLossMaps maps (the first kMomentMaps suffice without v_x).
// `sum(device, n, fn)` returns Σ fn(i) over [0, n) in double: the one backend-specific piece.
template <class T, class Sum>
LossResult loss_forward_backward(const Device& device, int width, int height, const T* x,
                                 const T* y, double lambda, T* v_x, LossMaps<T> maps,
                                 const Sum& sum) {
  const size_t n = size_t(width) * size_t(height) * 3;
  const Window<T> win = loss_math::ssim_window<T>();
  const Moments<T> moments{maps.map[0], maps.map[1], maps.map[2], maps.map[3], maps.map[4]};
  const Partials<T> partials = v_x ? Partials<T>{maps.map[5], maps.map[6], maps.map[7]}
                                   : Partials<T>{nullptr, nullptr, nullptr};
  filter_moments_rows(device, width, height, x, y, win, moments);
  const double ssim_sum = ssim_columns(device, width, height, moments, win, partials, sum);
  double l1_sum = 0;
  if (v_x) {
    // The moment maps are dead after pass 2: reuse three of them for the filtered partials.
    const Partials<T> rows{maps.map[0], maps.map[1], maps.map[2]};
    filter_partials_rows(device, width, height, partials, win, rows);
    const double inv_n = 1.0 / double(n);
    l1_sum = loss_gradient_columns(device, width, height, x, y, rows, win,
                                   T((1.0 - lambda) * inv_n), T(-lambda * inv_n), v_x, sum);
  } else {
    l1_sum = abs_diff_sum(device, n, x, y, sum);
  }
  LossResult r;
  r.l1 = l1_sum / double(n);
  r.ssim = ssim_sum / double(n);
  r.loss = (1.0 - lambda) * r.l1 + lambda * (1.0 - r.ssim);
  return r;
}

}  // namespace GS_LOSS_BACKEND_NS
}  // namespace gs::loss_passes

// CUDA entry points (loss_cuda.cu), called by the dispatchers in loss_cpu.cpp. Arguments are
// validated by the caller; pointers are device pointers.
namespace gs::detail {
LossResult image_loss_cuda(const Device& device, int width, int height, const float* rendered,
                           const float* target, float lambda_dssim, float* v_rendered,
                           LossWorkspace& workspace);
double squared_error_sum_cuda(const Device& device, size_t n, const float* rendered,
                              const float* target);
}  // namespace gs::detail
