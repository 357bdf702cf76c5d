// Kernel bodies of the sky cube map (sky_map.h), shared by sky_map_cpu.cpp and sky_map_cuda.cu
// (one pixel per index): the pixel's world ray, the cube-map bilinear sample, and the
// composite's forward and backward.
#pragma once

#include <cstddef>

#include "core/hd.h"
#include "core/camera.h"
#include "core/vec_math.h"

namespace gs::sky_impl {

using rmath::Mat3;
using rmath::Vec3;

// What the kernels need of the camera, in the kernel's scalar.
template <class T>
struct SkyCamera {
  T fx, fy, cx, cy;
  Mat3<T> cam_to_world;  // rotation only: directions do not translate
  int width;
};

template <class T>
inline SkyCamera<T> sky_camera(const Camera& c) {
  SkyCamera<T> s;
  s.fx = T(c.fx);
  s.fy = T(c.fy);
  s.cx = T(c.cx);
  s.cy = T(c.cy);
  // world_to_camera's rotation is orthonormal, so its transpose is camera→world.
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) s.cam_to_world.m[i][j] = T(c.world_to_camera[j * 4 + i]);
  s.width = c.width;
  return s;
}

// Unit world direction of pixel p's ray (row-major pixels, centres at +0.5).
template <class T>
GS_HD inline Vec3<T> pixel_direction(const SkyCamera<T>& c, size_t p) {
  const T u = T(p % size_t(c.width)) + T(0.5), v = T(p / size_t(c.width)) + T(0.5);
  const Vec3<T> d = {(u - c.cx) / c.fx, (v - c.cy) / c.fy, T(1)};
  return (T(1) / rmath::sqrt_(rmath::dot(d, d))) * rmath::mul(c.cam_to_world, d);
}

// The four texels (flattened: (face·R + row)·R + col) and bilinear weights of direction d.
template <class T>
struct CubeSample {
  size_t texel[4];
  T weight[4];
};

template <class T>
GS_HD inline CubeSample<T> cube_sample(Vec3<T> d, int resolution) {
  const T ax = rmath::abs_(d.x), ay = rmath::abs_(d.y), az = rmath::abs_(d.z);
  int face;
  T ma, sc, tc;
  if (az > rmath::max_(ax, ay)) {
    face = d.z < T(0) ? 5 : 4;
    ma = az;
    sc = d.z < T(0) ? -d.x : d.x;
    tc = -d.y;
  } else if (ay > ax) {
    face = d.y < T(0) ? 3 : 2;
    ma = ay;
    sc = d.x;
    tc = d.y < T(0) ? -d.z : d.z;
  } else {
    face = d.x < T(0) ? 1 : 0;
    ma = ax;
    sc = d.x < T(0) ? d.z : -d.z;
    tc = -d.y;
  }
  const T r = T(resolution);
  // Continuous texel coordinates (texel centres at integers), clamped to the face's edge texels.
  const T hi = T(resolution - 1);
  const T u = rmath::min_(rmath::max_((sc / ma + T(1)) * T(0.5) * r - T(0.5), T(0)), hi);
  const T v = rmath::min_(rmath::max_((tc / ma + T(1)) * T(0.5) * r - T(0.5), T(0)), hi);
  const int c0 = int(rmath::floor_(u)), r0 = int(rmath::floor_(v));
  const int c1 = c0 + 1 < resolution ? c0 + 1 : c0;
  const int r1 = r0 + 1 < resolution ? r0 + 1 : r0;
  const T fu = u - T(c0), fv = v - T(r0);
  const size_t base = size_t(face) * size_t(resolution);
  CubeSample<T> s;
  s.texel[0] = (base + size_t(r0)) * size_t(resolution) + size_t(c0);
  s.texel[1] = (base + size_t(r0)) * size_t(resolution) + size_t(c1);
  s.texel[2] = (base + size_t(r1)) * size_t(resolution) + size_t(c0);
  s.texel[3] = (base + size_t(r1)) * size_t(resolution) + size_t(c1);
  s.weight[0] = (T(1) - fu) * (T(1) - fv);
  s.weight[1] = fu * (T(1) - fv);
  s.weight[2] = (T(1) - fu) * fv;
  s.weight[3] = fu * fv;
  return s;
}

template <class T>
GS_HD inline Vec3<T> sample_texels(const CubeSample<T>& s, const T* texels) {
  Vec3<T> c = {T(0), T(0), T(0)};
  for (int k = 0; k < 4; ++k) {
    const T* t = texels + 3 * s.texel[k];
    c = c + s.weight[k] * Vec3<T>{t[0], t[1], t[2]};
  }
  return c;
}

// Texel gradients: an atomic add on the GPU; a plain add on the host, whose loop over pixels
// is serial (sky_map_cpu.cpp) so that the sums are deterministic.
template <class T>
GS_HD inline void add_texel_gradient(T* p, T v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
  *p += v;
#endif
}

template <class T>
struct SkyForwardKernel {
  SkyCamera<T> cam;
  int resolution;
  const T *texels, *rgb, *alpha;
  T *out, *sky_out;  // sky_out may be null

  GS_HD void operator()(size_t p) const {
    const Vec3<T> sky = sample_texels(cube_sample(pixel_direction(cam, p), resolution), texels);
    const T keep = T(1) - alpha[p];
    out[3 * p] = rgb[3 * p] + sky.x * keep;
    out[3 * p + 1] = rgb[3 * p + 1] + sky.y * keep;
    out[3 * p + 2] = rgb[3 * p + 2] + sky.z * keep;
    if (sky_out) {
      sky_out[3 * p] = sky.x;
      sky_out[3 * p + 1] = sky.y;
      sky_out[3 * p + 2] = sky.z;
    }
  }
};

template <class T>
struct SkyBackwardKernel {
  SkyCamera<T> cam;
  int resolution;
  const T *texels, *alpha, *v_out;
  T *v_alpha, *v_texels;  // accumulated into; either may be null

  GS_HD void operator()(size_t p) const {
    const CubeSample<T> s = cube_sample(pixel_direction(cam, p), resolution);
    const Vec3<T> g = {v_out[3 * p], v_out[3 * p + 1], v_out[3 * p + 2]};
    if (v_alpha) v_alpha[p] -= rmath::dot(sample_texels(s, texels), g);
    if (!v_texels) return;
    const T keep = T(1) - alpha[p];
    for (int k = 0; k < 4; ++k) {
      const T w = s.weight[k] * keep;
      if (w == T(0)) continue;  // a bilinear weight of 0 (on a texel centre or the edge clamp)
      T* t = v_texels + 3 * s.texel[k];
      add_texel_gradient(t, w * g.x);
      add_texel_gradient(t + 1, w * g.y);
      add_texel_gradient(t + 2, w * g.z);
    }
  }
};

}  // namespace gs::sky_impl
