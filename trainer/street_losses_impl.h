// The street losses written once for both backends (street_losses.h): per-pixel math (GS_HD,
// templated on the scalar) and the passes, parameterised by a `Sum` policy (Σ fn(i) in double
// over [0, n)) that is the only thing street_losses.cpp and street_losses_cuda.cu write each.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"
#include "core/hd.h"
#include "core/parallel_for.h"
#include "core/vec_math.h"
#include "trainer/street_losses.h"

namespace gs::street_loss_math {

// BCE(a, y) = −(y·log a + (1−y)·log(1−a)) with a clamped to [lo, 1 − lo], and its derivative in
// the unclamped a: (a − y)/(a(1 − a)) inside the clamp, 0 outside (torch's clamp passes the
// gradient on the bounds themselves, and so does this).
template <class T>
struct BcePoint {
  T value, d_alpha;
};
template <class T>
GS_HD inline BcePoint<T> bce(T alpha, T target, T lo) {
  const T hi = T(1) - lo;
  const bool inside = alpha >= lo && alpha <= hi;
  const T a = alpha < lo ? lo : (alpha > hi ? hi : alpha);
  BcePoint<T> p;
  p.value = -(target * rmath::log_(a) + (T(1) - target) * rmath::log_(T(1) - a));
  p.d_alpha = inside ? (a - target) / (a * (T(1) - a)) : T(0);
  return p;
}

template <class T>
GS_HD inline bool lidar_valid(T d) {
  return d > T(kLidarMinDepth) && d < T(kLidarMaxDepth);
}

}  // namespace gs::street_loss_math

namespace gs::street_loss_passes {
GS_BACKEND_NS_BEGIN

// Σ BCE over the pixels; adds scale·∂BCE/∂alpha to v_alpha (when not null).
template <class T, class Sum>
double sky_opacity_pass(const Device& device, size_t pixels, const T* alpha, const uint8_t* mask,
                        T scale, T* v_alpha, const Sum& sum) {
  const T lo = T(kSkyOpacityClamp);
  return sum(device, pixels, [=] GS_HD(size_t p) -> double {
    const T target = T(1) - T(mask[p]) / T(255);
    const street_loss_math::BcePoint<T> b = street_loss_math::bce(alpha[p], target, lo);
    if (v_alpha) v_alpha[p] += scale * b.d_alpha;
    return double(b.value);
  });
}

// The number of pixels with a valid LiDAR depth.
template <class T, class Sum>
double lidar_valid_count(const Device& device, size_t pixels, const T* lidar, const Sum& sum) {
  return sum(device, pixels, [=] GS_HD(size_t p) -> double {
    return street_loss_math::lidar_valid(lidar[p]) ? 1.0 : 0.0;
  });
}

// Σ |depth/max(alpha, eps) − lidar| over valid pixels; adds scale·(its gradients).
template <class T, class Sum>
double lidar_depth_pass(const Device& device, size_t pixels, const T* depth, const T* alpha,
                        const T* lidar, T eps, T scale, T* v_depth, T* v_alpha, const Sum& sum) {
  return sum(device, pixels, [=] GS_HD(size_t p) -> double {
    const T l = lidar[p];
    if (!street_loss_math::lidar_valid(l)) return 0.0;
    const bool held = !(alpha[p] > eps);
    const T a = held ? eps : alpha[p];
    const T r = depth[p] / a - l;
    const T s = r > T(0) ? T(1) : (r < T(0) ? T(-1) : T(0));
    if (v_depth) v_depth[p] += scale * s / a;
    if (v_alpha && !held) v_alpha[p] -= scale * s * depth[p] / (a * a);
    return double(rmath::abs_(r));
  });
}

GS_BACKEND_NS_END
}  // namespace gs::street_loss_passes
