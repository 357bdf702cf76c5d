// Kernel bodies shared by the CPU (rasterize_cpu.cpp) and CUDA (rasterize_cuda.cu) backends:
// per-Gaussian projection and tile counting, instance emission, tile ranges from sorted keys,
// and the per-Gaussian projection backward. Each is a functor run by parallel_for, so nvcc and
// the host compiler build the same code; only blending, scan and sort are per backend.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/hd.h"
#include "rasterizer/atomics.h"
#include "core/camera.h"
#include "rasterizer/projection_math.h"
#include "rasterizer/rasterize.h"

namespace gs::raster_impl {

using namespace gs::rmath;

// Host side: the camera in the kernels' scalar type, with the FOV clamp limits.
template <class T>
inline ProjCamera<T> make_proj_camera(const Camera& cam) {
  ProjCamera<T> c;
  const float* m = cam.world_to_camera;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c.rot.m[i][j] = T(m[i * 4 + j]);
  c.trans = {T(m[3]), T(m[7]), T(m[11])};
  c.fx = T(cam.fx);
  c.fy = T(cam.fy);
  c.cx = T(cam.cx);
  c.cy = T(cam.cy);
  c.lim_x_pos = T(kFovClampFactor) * (T(cam.width) - c.cx) / c.fx;
  c.lim_x_neg = T(kFovClampFactor) * c.cx / c.fx;
  c.lim_y_pos = T(kFovClampFactor) * (T(cam.height) - c.cy) / c.fy;
  c.lim_y_neg = T(kFovClampFactor) * c.cy / c.fy;
  c.width = cam.width;
  c.height = cam.height;
  return c;
}

// Sort key of an instance: tile id in the high 32 bits, the float bits of the (positive) depth
// in the low 32, so an unsigned sort orders by tile, then front to back.
template <class T>
GS_HD inline uint64_t instance_key(int tile_id, T depth) {
  const float f = float(depth);
#if defined(__CUDA_ARCH__)
  const uint32_t bits = __float_as_uint(f);
#else
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
#endif
  return (uint64_t(uint32_t(tile_id)) << 32) | bits;
}

// Counters the projection fills: [0] Gaussians skipped for non-finite inputs, [1] visible.
enum ProjectCounter { kCountNonfinite = 0, kCountVisible = 1, kNumProjectCounters = 2 };

template <class T>
GS_HD inline bool inputs_finite(const GaussianInputsT<T>& g, size_t i) {
  bool ok = true;
  for (int k = 0; k < 3; ++k)
    ok = ok && finite_(g.means[i * 3 + k]) && finite_(g.log_scales[i * 3 + k]) &&
         finite_(g.colors[i * 3 + k]);
  for (int k = 0; k < 4; ++k) ok = ok && finite_(g.quats[i * 4 + k]);
  return ok && finite_(g.opacity_logits[i]);
}

template <class T>
GS_HD inline Vec3<T> load3(const T* p, size_t i) { return {p[i * 3], p[i * 3 + 1], p[i * 3 + 2]}; }
template <class T>
GS_HD inline Vec4<T> load4(const T* p, size_t i) {
  return {p[i * 4], p[i * 4 + 1], p[i * 4 + 2], p[i * 4 + 3]};
}

// Per Gaussian: project, cull, and count the tiles its ellipse reaches (written to
// tiles_touched[i], which the scan turns into instance offsets).
template <class T>
struct ProjectKernel {
  GaussianInputsT<T> g;
  ProjCamera<T> cam;
  bool antialias;
  T near_plane;
  T* mean2d;
  T* conic;
  T* opacity;
  T* depth;
  int32_t* radii;
  int32_t* rects;  // n × 4 tile rectangle (x0, y0, x1, y1), for EmitInstancesKernel
  int64_t* tiles_touched;
  unsigned long long* counters;

  GS_HD void operator()(size_t i) const {
    radii[i] = 0;
    tiles_touched[i] = 0;
    if (!inputs_finite(g, i)) {
      atomic_add(&counters[kCountNonfinite], 1ull);
      return;
    }
    ProjectedGaussian<T> p;
    if (!project_gaussian(cam, load3(g.means, i), load3(g.log_scales, i), load4(g.quats, i),
                          g.opacity_logits[i], antialias, near_plane, &p))
      return;
    const TileRect r = tile_rect(p.mean2d, p.ext_x, p.ext_y, cam.width, cam.height, kTileSize);
    int64_t touched = 0;
    for (int ty = r.y0; ty < r.y1; ++ty)
      for (int tx = r.x0; tx < r.x1; ++tx)
        touched += ellipse_touches_tile(p.mean2d, p.conic, p.ext_sq, tx, ty, cam.width,
                                        cam.height, kTileSize);
    if (touched == 0) return;
    mean2d[i * 2] = p.mean2d.x;
    mean2d[i * 2 + 1] = p.mean2d.y;
    conic[i * 3] = p.conic.a;
    conic[i * 3 + 1] = p.conic.b;
    conic[i * 3 + 2] = p.conic.c;
    opacity[i] = p.opacity;
    depth[i] = p.depth;
    // The extents are finite here but may be astronomically large: clamp before the cast.
    const T rad = ceil_(max_(p.ext_x, p.ext_y));
    radii[i] = int32_t(min_(max_(rad, T(1)), T(1 << 30)));
    tiles_touched[i] = touched;
    rects[i * 4] = r.x0;
    rects[i * 4 + 1] = r.y0;
    rects[i * 4 + 2] = r.x1;
    rects[i * 4 + 3] = r.y1;
    atomic_add(&counters[kCountVisible], 1ull);
  }
};

// Per Gaussian: write its (key, id) instances at offsets[i] (the exclusive scan of
// tiles_touched), testing the tiles of its rectangle in the order ProjectKernel counted them.
// Should it find fewer (only if the two kernels were compiled to round the same test
// differently), it pads with tile id = num_tiles: past every real tile, so padding sorts last and
// belongs to no tile.
template <class T>
struct EmitInstancesKernel {
  int width, height, tiles_x;
  uint32_t num_tiles;
  const T* mean2d;
  const T* conic;
  const T* opacity;
  const T* depth;
  const int32_t* radii;
  const int32_t* rects;
  const int64_t* offsets;
  uint64_t* keys;
  int32_t* ids;

  GS_HD void operator()(size_t i) const {
    if (radii[i] == 0) return;
    const Vec2<T> m = {mean2d[i * 2], mean2d[i * 2 + 1]};
    const Sym2<T> con = {conic[i * 3], conic[i * 3 + 1], conic[i * 3 + 2]};
    const T ext_sq = extent_sq(opacity[i]);
    int64_t k = offsets[i];
    const int64_t end = offsets[i + 1];
    for (int ty = rects[i * 4 + 1]; ty < rects[i * 4 + 3]; ++ty)
      for (int tx = rects[i * 4]; tx < rects[i * 4 + 2] && k < end; ++tx) {
        if (!ellipse_touches_tile(m, con, ext_sq, tx, ty, width, height, kTileSize)) continue;
        keys[k] = instance_key(ty * tiles_x + tx, depth[i]);
        ids[k] = int32_t(i);
        ++k;
      }
    for (; k < end; ++k) {
      keys[k] = uint64_t(num_tiles) << 32;
      ids[k] = int32_t(i);
    }
  }
};

// Per sorted instance: mark where each tile's run begins and ends (ranges zeroed before).
struct TileRangesKernel {
  size_t count;
  uint32_t num_tiles;
  const uint64_t* keys;
  int64_t* ranges;  // tiles × 2

  GS_HD void operator()(size_t k) const {
    const uint32_t tile = uint32_t(keys[k] >> 32);
    if (tile >= num_tiles) return;  // padding
    if (k == 0 || uint32_t(keys[k - 1] >> 32) != tile) ranges[size_t(tile) * 2] = int64_t(k);
    if (k + 1 == count || uint32_t(keys[k + 1] >> 32) != tile) ranges[size_t(tile) * 2 + 1] = int64_t(k + 1);
  }
};

// Per Gaussian: from the blend's ∂L/∂(mean2d, conic, opacity, z) to ∂L/∂ of the inputs.
template <class T>
struct ProjectBackwardKernel {
  GaussianInputsT<T> g;
  ProjCamera<T> cam;
  bool antialias;
  const int32_t* radii;
  const T* v_mean2d;
  const T* v_conic;
  const T* v_opacity;
  const T* v_depth;
  T* v_means;
  T* v_log_scales;
  T* v_quats;
  T* v_opacity_logits;

  GS_HD void operator()(size_t i) const {
    Vec3<T> vm = {0, 0, 0}, vs = {0, 0, 0};
    Vec4<T> vq = {0, 0, 0, 0};
    T vo = 0;
    if (radii[i] > 0)
      v_project_gaussian(cam, load3(g.means, i), load3(g.log_scales, i), load4(g.quats, i),
                         g.opacity_logits[i], antialias, {v_mean2d[i * 2], v_mean2d[i * 2 + 1]},
                         {v_conic[i * 3], v_conic[i * 3 + 1], v_conic[i * 3 + 2]}, v_opacity[i],
                         v_depth[i], &vm, &vs, &vq, &vo);
    v_means[i * 3] = vm.x;
    v_means[i * 3 + 1] = vm.y;
    v_means[i * 3 + 2] = vm.z;
    v_log_scales[i * 3] = vs.x;
    v_log_scales[i * 3 + 1] = vs.y;
    v_log_scales[i * 3 + 2] = vs.z;
    v_quats[i * 4] = vq.w;
    v_quats[i * 4 + 1] = vq.x;
    v_quats[i * 4 + 2] = vq.y;
    v_quats[i * 4 + 3] = vq.z;
    v_opacity_logits[i] = vo;
  }
};

}  // namespace gs::raster_impl
