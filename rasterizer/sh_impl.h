// Kernel bodies of SH → colour, shared by sh_cpu.cpp and sh_cuda.cu (one Gaussian per index).
#pragma once

#include "rasterizer/sh_math.h"

namespace gs::raster_impl {

template <class T>
struct ShForwardKernel {
  int coeffs;  // (sh_degree+1)², the stride of sh
  int active_degree;
  const T* sh;
  const T* means;
  rmath::Vec3<T> campos;
  T* colors;

  GS_HD void operator()(size_t i) const {
    const rmath::Vec3<T> dir = {means[i * 3] - campos.x, means[i * 3 + 1] - campos.y,
                                means[i * 3 + 2] - campos.z};
    const rmath::Vec3<T> c = rmath::sh_to_color(active_degree, sh + i * coeffs * 3, dir);
    colors[i * 3] = c.x;
    colors[i * 3 + 1] = c.y;
    colors[i * 3 + 2] = c.z;
  }
};

template <class T>
struct ShBackwardKernel {
  int coeffs;
  int active_degree;
  const T* sh;
  const T* means;
  rmath::Vec3<T> campos;
  const T* v_colors;
  T* v_sh;
  T* v_means;  // accumulated into; may be null

  GS_HD void operator()(size_t i) const {
    const rmath::Vec3<T> dir = {means[i * 3] - campos.x, means[i * 3 + 1] - campos.y,
                                means[i * 3 + 2] - campos.z};
    T* vs = v_sh + i * coeffs * 3;
    const rmath::Vec3<T> vd = rmath::v_sh_to_color(
        active_degree, sh + i * coeffs * 3, dir,
        {v_colors[i * 3], v_colors[i * 3 + 1], v_colors[i * 3 + 2]}, vs);
    const int active = (active_degree + 1) * (active_degree + 1);
    for (int k = active * 3; k < coeffs * 3; ++k) vs[k] = T(0);
    if (v_means && rmath::finite_(vd.x + vd.y + vd.z)) {
      v_means[i * 3] += vd.x;
      v_means[i * 3 + 1] += vd.y;
      v_means[i * 3 + 2] += vd.z;
    }
  }
};

}  // namespace gs::raster_impl
