// The CPU backend of the rasterizer: the shared per-Gaussian kernels (project_impl.h) under
// parallel_for, a parallel counting sort by tile with a per-tile depth sort, and OpenMP tile
// loops for blending. Templated on the scalar: float is the product path, double lets the
// gradient tests run the whole pipeline against finite differences.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "core/parallel_for.h"
#include "rasterizer/blend_math.h"
#include "rasterizer/project_impl.h"
#include "rasterizer/rasterize_backends.h"

namespace gs {
namespace {

using namespace raster_impl;
constexpr MemCategory kCat = MemCategory::raster;

// A tile's Gaussians copied contiguously for the pixel loops.
template <class T>
struct TileSplat {
  Sym2<T> conic;
  T mx, my, opacity, depth;
  T color[3];
  // Below this power, α = o·exp(power) is surely under 1/255 (with a margin far above
  // rounding), so the pixel loops skip the exp; near it, splat_alpha decides exactly as on CUDA.
  T min_power;
};

template <class T>
inline bool surely_skipped(const TileSplat<T>& sp, T dx, T dy) {
  return splat_power(sp.conic, dx, dy) < sp.min_power;
}

// Gradient of one tile instance (one Gaussian over one tile's pixels); summed per Gaussian in
// instance order after the tile loop.
template <class T>
struct TileGrad {
  T mean2d[2], absgrad[2], conic[3], opacity, color[3], depth;
};

int num_threads() { return std::max(1, omp_get_max_threads()); }

template <class T>
int64_t max_tile_length(const Buffer<int64_t>& ranges, size_t tiles) {
  int64_t longest = 0;
  for (size_t t = 0; t < tiles; ++t) longest = std::max(longest, ranges[t * 2 + 1] - ranges[t * 2]);
  return longest;
}

template <class T>
void load_tile(const RasterForwardT<T>& f, const T* colors, int64_t begin, int64_t count,
               TileSplat<T>* out) {
  for (int64_t j = 0; j < count; ++j) {
    const size_t id = size_t(f.sorted_ids[size_t(begin + j)]);
    TileSplat<T>& s = out[j];
    s.conic = {f.conic[id * 3], f.conic[id * 3 + 1], f.conic[id * 3 + 2]};
    s.mx = f.mean2d[id * 2];
    s.my = f.mean2d[id * 2 + 1];
    s.opacity = f.opacity[id];
    s.depth = f.view_depth[id];
    for (int c = 0; c < 3; ++c) s.color[c] = colors[id * 3 + c];
    s.min_power = s.opacity > T(0)
                      ? T(std::log(rmath::kBlendAlphaMin / double(s.opacity)) - 1e-3)
                      : T(0);
  }
}

// Sorts instances by (tile, depth, id): a parallel counting sort on the tile, then a sort of
// each tile's (depth bits, id) words. Fills out.sorted_ids and out.tile_ranges; padding
// instances (tile id = tiles) are dropped.
template <class T>
void sort_instances(const Buffer<uint64_t>& keys, const Buffer<int32_t>& ids, size_t tiles,
                    RasterForwardT<T>& out) {
  const Device dev = Device::cpu();
  const int64_t total = int64_t(keys.size());
  const int chunks = int(std::min<int64_t>(num_threads(), std::max<int64_t>(1, total / 4096)));
  // hist[c][t]: instances of tile t in chunk c, then where chunk c writes them.
  Buffer<int64_t> hist = Buffer<int64_t>::zeros(dev, size_t(chunks) * tiles, kCat);
  auto chunk_begin = [&](int c) { return total * c / chunks; };
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c)
    for (int64_t k = chunk_begin(c); k < chunk_begin(c + 1); ++k) {
      const uint32_t tile = uint32_t(keys[size_t(k)] >> 32);
      if (tile < tiles) ++hist[size_t(c) * tiles + tile];
    }
  int64_t running = 0;
  for (size_t t = 0; t < tiles; ++t) {
    out.tile_ranges[t * 2] = running;
    for (int c = 0; c < chunks; ++c) {
      const int64_t count = hist[size_t(c) * tiles + t];
      hist[size_t(c) * tiles + t] = running;
      running += count;
    }
    out.tile_ranges[t * 2 + 1] = running;
  }
  const size_t valid = size_t(running);
  Buffer<uint64_t> words(dev, valid, kCat);
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c)
    for (int64_t k = chunk_begin(c); k < chunk_begin(c + 1); ++k) {
      const uint64_t key = keys[size_t(k)];
      const uint32_t tile = uint32_t(key >> 32);
      if (tile >= tiles) continue;
      words[size_t(hist[size_t(c) * tiles + tile]++)] = (key << 32) | uint32_t(ids[size_t(k)]);
    }
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t t = 0; t < int64_t(tiles); ++t)
    std::sort(words.data() + out.tile_ranges[size_t(t) * 2],
              words.data() + out.tile_ranges[size_t(t) * 2 + 1]);
  out.sorted_ids = Buffer<int32_t>(dev, valid, kCat);
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < int64_t(valid); ++k)
    out.sorted_ids[size_t(k)] = int32_t(uint32_t(words[size_t(k)]));
}

template <class T>
void blend_forward(const GaussianInputsT<T>& g, const RasterSettings& s, RasterForwardT<T>& f) {
  const size_t tiles = size_t(f.tiles_x) * f.tiles_y;
  const int64_t longest = max_tile_length<T>(f.tile_ranges, tiles);
  const int threads = num_threads();
  Buffer<TileSplat<T>> scratch(Device::cpu(), size_t(threads) * size_t(longest), kCat);
  const T bg[3] = {T(s.background[0]), T(s.background[1]), T(s.background[2])};
#pragma omp parallel num_threads(threads)
  {
    TileSplat<T>* splats = scratch.data() + size_t(omp_get_thread_num()) * size_t(longest);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < int64_t(tiles); ++t) {
      const int64_t begin = f.tile_ranges[size_t(t) * 2];
      const int64_t count = f.tile_ranges[size_t(t) * 2 + 1] - begin;
      load_tile(f, g.colors, begin, count, splats);
      const int tx = int(t % f.tiles_x), ty = int(t / f.tiles_x);
      const int x_end = std::min(f.width, (tx + 1) * kTileSize);
      const int y_end = std::min(f.height, (ty + 1) * kTileSize);
      for (int py = ty * kTileSize; py < y_end; ++py)
        for (int px = tx * kTileSize; px < x_end; ++px) {
          PixelBlend<T> pb;
          const T fx = T(px) + T(0.5), fy = T(py) + T(0.5);
          for (int64_t j = 0; j < count && !pb.done; ++j) {
            const TileSplat<T>& sp = splats[j];
            if (surely_skipped(sp, fx - sp.mx, fy - sp.my)) continue;
            const T alpha = splat_alpha(sp.conic, sp.opacity, fx - sp.mx, fy - sp.my);
            if (alpha > T(0)) pb.add(int32_t(j), alpha, sp.color, sp.depth);
          }
          const size_t pix = size_t(py) * f.width + px;
          for (int c = 0; c < 3; ++c) f.rgb[pix * 3 + c] = pb.rgb[c] + pb.trans * bg[c];
          f.alpha[pix] = T(1) - pb.trans;
          f.depth[pix] = pb.depth;
          f.final_transmittance[pix] = pb.trans;
          f.n_contrib[pix] = pb.n_contrib;
        }
    }
  }
}

}  // namespace

template <class T>
RasterForwardT<T> rasterize_forward_cpu(const GaussianInputsT<T>& g, const Camera& camera,
                                        const RasterSettings& s) {
  const Device dev = Device::cpu();
  const size_t n = g.count;
  RasterForwardT<T> f;
  f.width = camera.width;
  f.height = camera.height;
  f.tiles_x = (camera.width + kTileSize - 1) / kTileSize;
  f.tiles_y = (camera.height + kTileSize - 1) / kTileSize;
  const size_t pixels = size_t(f.width) * f.height, tiles = size_t(f.tiles_x) * f.tiles_y;
  f.rgb = Buffer<T>(dev, pixels * 3, kCat);
  f.alpha = Buffer<T>(dev, pixels, kCat);
  f.depth = Buffer<T>(dev, pixels, kCat);
  f.final_transmittance = Buffer<T>(dev, pixels, kCat);
  f.n_contrib = Buffer<int32_t>(dev, pixels, kCat);
  f.radii = Buffer<int32_t>(dev, n, kCat);
  f.mean2d = Buffer<T>(dev, n * 2, kCat);
  f.conic = Buffer<T>(dev, n * 3, kCat);
  f.opacity = Buffer<T>(dev, n, kCat);
  f.view_depth = Buffer<T>(dev, n, kCat);
  f.tile_ranges = Buffer<int64_t>::zeros(dev, tiles * 2, kCat);
  {
    Buffer<int32_t> rects(dev, n * 4, kCat);
    Buffer<int64_t> offsets(dev, n + 1, kCat);
    Buffer<unsigned long long> counters =
        Buffer<unsigned long long>::zeros(dev, kNumProjectCounters, kCat);
    const ProjCamera<T> cam = make_proj_camera<T>(camera);
    parallel_for(dev, n,
                 ProjectKernel<T>{g, cam, s.antialias, T(s.near_plane), f.mean2d.data(),
                                  f.conic.data(), f.opacity.data(), f.view_depth.data(),
                                  f.radii.data(), rects.data(), offsets.data(), counters.data()});
    f.stats.skipped_nonfinite = size_t(counters[kCountNonfinite]);
    f.stats.visible = size_t(counters[kCountVisible]);
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      const int64_t touched = offsets[i];
      offsets[i] = total;
      total += touched;
    }
    offsets[n] = total;
    Buffer<uint64_t> keys(dev, size_t(total), kCat);
    Buffer<int32_t> ids(dev, size_t(total), kCat);
    parallel_for(dev, n,
                 EmitInstancesKernel<T>{f.width, f.height, f.tiles_x, uint32_t(tiles), f.mean2d.data(),
                                        f.conic.data(), f.opacity.data(), f.view_depth.data(),
                                        f.radii.data(), rects.data(), offsets.data(), keys.data(),
                                        ids.data()});
    rects.reset();
    offsets.reset();
    sort_instances(keys, ids, tiles, f);
  }
  f.stats.instances = f.sorted_ids.size();
  blend_forward(g, s, f);
  return f;
}

template <class T>
RasterGradientsT<T> rasterize_backward_cpu(const GaussianInputsT<T>& g, const Camera& camera,
                                           const RasterSettings& s, const RasterForwardT<T>& f,
                                           const T* v_rgb, const T* v_alpha, const T* v_depth) {
  const Device dev = Device::cpu();
  const size_t n = g.count;
  const size_t tiles = size_t(f.tiles_x) * f.tiles_y;
  RasterGradientsT<T> out;
  out.v_colors = Buffer<T>::zeros(dev, n * 3, kCat);
  out.v_mean2d = Buffer<T>::zeros(dev, n * 2, kCat);
  out.absgrad = Buffer<T>::zeros(dev, n * 2, kCat);
  Buffer<T> v_conic = Buffer<T>::zeros(dev, n * 3, kCat);
  Buffer<T> v_opacity = Buffer<T>::zeros(dev, n, kCat);
  Buffer<T> v_z = Buffer<T>::zeros(dev, n, kCat);

  const int64_t longest = max_tile_length<T>(f.tile_ranges, tiles);
  const int threads = num_threads();
  Buffer<TileSplat<T>> splat_scratch(dev, size_t(threads) * size_t(longest), kCat);
  // Per-instance gradients, summed per Gaussian afterwards in instance order: the result does
  // not depend on thread timing (atomics would make training runs differ bit for bit, and a
  // resumed run could not reproduce an uninterrupted one).
  const size_t instances = f.sorted_ids.size();
  Buffer<TileGrad<T>> inst_grads(dev, instances, kCat);
  const T bg[3] = {T(s.background[0]), T(s.background[1]), T(s.background[2])};
  // AbsGrad in graphdeco/gsplat units: pixel gradients scaled by (W/2, H/2).
  const T abs_scale[2] = {T(0.5) * T(f.width), T(0.5) * T(f.height)};
  T v_bg[3] = {0, 0, 0};
#pragma omp parallel num_threads(threads)
  {
    TileSplat<T>* splats = splat_scratch.data() + size_t(omp_get_thread_num()) * size_t(longest);
    T local_bg[3] = {0, 0, 0};
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < int64_t(tiles); ++t) {
      const int64_t begin = f.tile_ranges[size_t(t) * 2];
      const int64_t count = f.tile_ranges[size_t(t) * 2 + 1] - begin;
      load_tile(f, g.colors, begin, count, splats);
      TileGrad<T>* grads = inst_grads.data() + begin;
      std::fill(grads, grads + count, TileGrad<T>{});
      const int tx = int(t % f.tiles_x), ty = int(t / f.tiles_x);
      const int x_end = std::min(f.width, (tx + 1) * kTileSize);
      const int y_end = std::min(f.height, (ty + 1) * kTileSize);
      for (int py = ty * kTileSize; py < y_end; ++py)
        for (int px = tx * kTileSize; px < x_end; ++px) {
          const size_t pix = size_t(py) * f.width + px;
          const T zero3[3] = {0, 0, 0};
          const T* vr = v_rgb ? v_rgb + pix * 3 : zero3;
          const T t_final = f.final_transmittance[pix];
          for (int c = 0; c < 3; ++c) local_bg[c] += t_final * vr[c];
          PixelBlendGrad<T> pg(t_final, vr, v_alpha ? v_alpha[pix] : T(0),
                               v_depth ? v_depth[pix] : T(0), bg);
          const T fx = T(px) + T(0.5), fy = T(py) + T(0.5);
          for (int32_t j = f.n_contrib[pix] - 1; j >= 0; --j) {
            const TileSplat<T>& sp = splats[j];
            const T dx = fx - sp.mx, dy = fy - sp.my;
            if (surely_skipped(sp, dx, dy)) continue;
            const AlphaAndGauss<T> ag = splat_alpha_and_gauss(sp.conic, sp.opacity, dx, dy);
            if (!(ag.alpha > T(0))) continue;
            TileGrad<T>& acc = grads[j];
            const T v_a = pg.step(ag.alpha, sp.color, sp.depth, acc.color, &acc.depth);
            const SplatGrad<T> sg =
                v_splat_alpha_given(sp.conic, sp.opacity, dx, dy, ag.gauss, v_a);
            acc.mean2d[0] += sg.mean2d.x;
            acc.mean2d[1] += sg.mean2d.y;
            acc.absgrad[0] += rmath::abs_(sg.mean2d.x);
            acc.absgrad[1] += rmath::abs_(sg.mean2d.y);
            acc.conic[0] += sg.conic.a;
            acc.conic[1] += sg.conic.b;
            acc.conic[2] += sg.conic.c;
            acc.opacity += sg.opacity;
          }
        }
    }
#pragma omp critical
    for (int c = 0; c < 3; ++c) v_bg[c] += local_bg[c];
  }
  for (int c = 0; c < 3; ++c) out.v_background[c] = v_bg[c];
  for (size_t i = 0; i < instances; ++i) {
    const size_t id = size_t(f.sorted_ids[i]);
    const TileGrad<T>& a = inst_grads[i];
    for (int k = 0; k < 2; ++k) {
      out.v_mean2d[id * 2 + k] += a.mean2d[k];
      out.absgrad[id * 2 + k] += a.absgrad[k] * abs_scale[k];
    }
    for (int k = 0; k < 3; ++k) {
      v_conic[id * 3 + k] += a.conic[k];
      out.v_colors[id * 3 + k] += a.color[k];
    }
    v_opacity[id] += a.opacity;
    v_z[id] += a.depth;
  }
  inst_grads.reset();

  out.v_means = Buffer<T>(dev, n * 3, kCat);
  out.v_log_scales = Buffer<T>(dev, n * 3, kCat);
  out.v_quats = Buffer<T>(dev, n * 4, kCat);
  out.v_opacity_logits = Buffer<T>(dev, n, kCat);
  parallel_for(dev, n,
               ProjectBackwardKernel<T>{g, make_proj_camera<T>(camera), s.antialias,
                                        f.radii.data(), out.v_mean2d.data(), v_conic.data(),
                                        v_opacity.data(), v_z.data(), out.v_means.data(),
                                        out.v_log_scales.data(), out.v_quats.data(),
                                        out.v_opacity_logits.data()});
  return out;
}

template RasterForwardT<float> rasterize_forward_cpu<float>(const GaussianInputsT<float>&,
                                                            const Camera&, const RasterSettings&);
template RasterForwardT<double> rasterize_forward_cpu<double>(const GaussianInputsT<double>&,
                                                              const Camera&, const RasterSettings&);
template RasterGradientsT<float> rasterize_backward_cpu<float>(
    const GaussianInputsT<float>&, const Camera&, const RasterSettings&,
    const RasterForwardT<float>&, const float*, const float*, const float*);
template RasterGradientsT<double> rasterize_backward_cpu<double>(
    const GaussianInputsT<double>&, const Camera&, const RasterSettings&,
    const RasterForwardT<double>&, const double*, const double*, const double*);

}  // namespace gs
