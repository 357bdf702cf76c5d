// The CUDA backend of the rasterizer: the shared per-Gaussian kernels (project_impl.h) under
// parallel_for, CUB scan and radix sort, and the two per-tile kernels written for the GPU: a
// forward blend over shared-memory batches with block-wide early exit, and a back-to-front
// backward that sums each Gaussian's per-pixel gradients across the warp before one atomic.
#include <cub/cub.cuh>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/buffer.h"
#include "core/cuda_check.h"
#include "core/parallel_for.h"
#include "rasterizer/blend_math.h"
#include "rasterizer/project_impl.h"
#include "rasterizer/rasterize_backends.h"

namespace gs {
namespace {

using namespace raster_impl;
constexpr MemCategory kCat = MemCategory::raster;
constexpr int kBlock = kTileSize * kTileSize;  // one thread per pixel of a tile

int bit_width(uint64_t v) {
  int b = 0;
  while (v) {
    ++b;
    v >>= 1;
  }
  return b;
}

// One Gaussian of the current batch, in shared memory.
struct SharedSplat {
  Sym2<float> conic;
  float mx, my, opacity, depth;
  float color[3];
};

__device__ inline SharedSplat load_splat(int32_t id, const float* mean2d, const float* conic,
                                         const float* opacity, const float* depth,
                                         const float* colors) {
  const size_t i = size_t(id);
  SharedSplat s;
  s.conic = {conic[i * 3], conic[i * 3 + 1], conic[i * 3 + 2]};
  s.mx = mean2d[i * 2];
  s.my = mean2d[i * 2 + 1];
  s.opacity = opacity[i];
  s.depth = depth[i];
  for (int c = 0; c < 3; ++c) s.color[c] = colors[i * 3 + c];
  return s;
}

struct BlendForwardArgs {
  int width, height, tiles_x;
  const int64_t* ranges;
  const int32_t* ids;
  const float* mean2d;
  const float* conic;
  const float* opacity;
  const float* depth;
  const float* colors;
  float bg[3];
  float* rgb;
  float* alpha;
  float* out_depth;
  float* final_t;
  int32_t* n_contrib;
};

__global__ void __launch_bounds__(kBlock) blend_forward_kernel(BlendForwardArgs a) {
  const int tile = blockIdx.x;
  const int px = (tile % a.tiles_x) * kTileSize + int(threadIdx.x) % kTileSize;
  const int py = (tile / a.tiles_x) * kTileSize + int(threadIdx.x) / kTileSize;
  const bool inside = px < a.width && py < a.height;
  const int64_t begin = a.ranges[size_t(tile) * 2], end = a.ranges[size_t(tile) * 2 + 1];
  __shared__ SharedSplat batch[kBlock];
  PixelBlend<float> pb;
  bool done = !inside;
  const float fx = float(px) + 0.5f, fy = float(py) + 0.5f;
  for (int64_t start = begin; start < end; start += kBlock) {
    // Also the barrier before the batch is overwritten.
    if (__syncthreads_count(done) == kBlock) break;
    const int64_t k = start + threadIdx.x;
    if (k < end)
      batch[threadIdx.x] = load_splat(a.ids[k], a.mean2d, a.conic, a.opacity, a.depth, a.colors);
    __syncthreads();
    const int count = int(min(int64_t(kBlock), end - start));
    for (int j = 0; j < count && !done; ++j) {
      const SharedSplat& s = batch[j];
      const float alpha = splat_alpha(s.conic, s.opacity, fx - s.mx, fy - s.my);
      if (alpha > 0.f) {
        pb.add(int32_t(start - begin) + j, alpha, s.color, s.depth);
        done = pb.done;
      }
    }
  }
  if (!inside) return;
  const size_t pix = size_t(py) * a.width + px;
  for (int c = 0; c < 3; ++c) a.rgb[pix * 3 + c] = pb.rgb[c] + pb.trans * a.bg[c];
  a.alpha[pix] = 1.f - pb.trans;
  a.out_depth[pix] = pb.depth;
  a.final_t[pix] = pb.trans;
  a.n_contrib[pix] = pb.n_contrib;
}

struct BlendBackwardArgs {
  int width, height, tiles_x;
  const int64_t* ranges;
  const int32_t* ids;
  const float* mean2d;
  const float* conic;
  const float* opacity;
  const float* depth;
  const float* colors;
  const float* final_t;
  const int32_t* n_contrib;
  const float* v_rgb;    // nullable
  const float* v_alpha;  // nullable
  const float* v_depth;  // nullable
  float bg[3];
  float abs_scale[2];
  float* v_mean2d;
  float* absgrad;
  float* v_conic;
  float* v_opacity;
  float* v_colors;
  float* v_z;
  float* v_bg;  // 3
};

__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

constexpr int kGradFields = 12;

__global__ void __launch_bounds__(kBlock) blend_backward_kernel(BlendBackwardArgs a) {
  const int tile = blockIdx.x;
  const int px = (tile % a.tiles_x) * kTileSize + int(threadIdx.x) % kTileSize;
  const int py = (tile / a.tiles_x) * kTileSize + int(threadIdx.x) / kTileSize;
  const bool inside = px < a.width && py < a.height;
  const size_t pix = inside ? size_t(py) * a.width + px : 0;
  const int lane = int(threadIdx.x) % 32;
  const int64_t begin = a.ranges[size_t(tile) * 2];
  const float t_final = inside ? a.final_t[pix] : 1.f;
  const int32_t my_n = inside ? a.n_contrib[pix] : 0;
  float vr[3] = {0.f, 0.f, 0.f};
  if (inside && a.v_rgb)
    for (int c = 0; c < 3; ++c) vr[c] = a.v_rgb[pix * 3 + c];
  PixelBlendGrad<float> pg(t_final, vr, inside && a.v_alpha ? a.v_alpha[pix] : 0.f,
                           inside && a.v_depth ? a.v_depth[pix] : 0.f, a.bg);
  for (int c = 0; c < 3; ++c) {
    const float s = warp_sum(inside ? t_final * vr[c] : 0.f);
    if (lane == 0 && s != 0.f) atomicAdd(&a.v_bg[c], s);
  }

  // Walk the tile's list back to front from the block's furthest last contributor.
  __shared__ int block_n;
  if (threadIdx.x == 0) block_n = 0;
  __syncthreads();
  atomicMax(&block_n, int(my_n));
  __syncthreads();
  const int n_max = block_n;
  __shared__ SharedSplat batch[kBlock];
  __shared__ int32_t batch_ids[kBlock];
  const float fx = float(px) + 0.5f, fy = float(py) + 0.5f;
  for (int batch_end = n_max; batch_end > 0; batch_end -= kBlock) {
    const int count = min(kBlock, batch_end);
    __syncthreads();  // the previous batch is consumed
    if (int(threadIdx.x) < count) {
      // Slot s holds list position batch_end − 1 − s.
      const int32_t id = a.ids[begin + batch_end - 1 - int(threadIdx.x)];
      batch_ids[threadIdx.x] = id;
      batch[threadIdx.x] = load_splat(id, a.mean2d, a.conic, a.opacity, a.depth, a.colors);
    }
    __syncthreads();
    for (int s = 0; s < count; ++s) {
      const int pos = batch_end - 1 - s;
      const SharedSplat& sp = batch[s];
      float g[kGradFields];
#pragma unroll
      for (int f = 0; f < kGradFields; ++f) g[f] = 0.f;
      bool valid = inside && pos < my_n;
      if (valid) {
        const float dx = fx - sp.mx, dy = fy - sp.my;
        const AlphaAndGauss<float> ag = splat_alpha_and_gauss(sp.conic, sp.opacity, dx, dy);
        valid = ag.alpha > 0.f;
        if (valid) {
          const float v_a = pg.step(ag.alpha, sp.color, sp.depth, &g[8], &g[11]);
          const SplatGrad<float> sg =
              v_splat_alpha_given(sp.conic, sp.opacity, dx, dy, ag.gauss, v_a);
          g[0] = sg.mean2d.x;
          g[1] = sg.mean2d.y;
          g[2] = fabsf(sg.mean2d.x) * a.abs_scale[0];
          g[3] = fabsf(sg.mean2d.y) * a.abs_scale[1];
          g[4] = sg.conic.a;
          g[5] = sg.conic.b;
          g[6] = sg.conic.c;
          g[7] = sg.opacity;
        }
      }
      // All 32 lanes reach this point (the loop bounds are block-uniform).
      if (!__any_sync(0xffffffffu, valid)) continue;
#pragma unroll
      for (int f = 0; f < kGradFields; ++f) g[f] = warp_sum(g[f]);
      if (lane == 0) {
        const size_t id = size_t(batch_ids[s]);
        atomicAdd(&a.v_mean2d[id * 2], g[0]);
        atomicAdd(&a.v_mean2d[id * 2 + 1], g[1]);
        atomicAdd(&a.absgrad[id * 2], g[2]);
        atomicAdd(&a.absgrad[id * 2 + 1], g[3]);
        atomicAdd(&a.v_conic[id * 3], g[4]);
        atomicAdd(&a.v_conic[id * 3 + 1], g[5]);
        atomicAdd(&a.v_conic[id * 3 + 2], g[6]);
        atomicAdd(&a.v_opacity[id], g[7]);
        atomicAdd(&a.v_colors[id * 3], g[8]);
        atomicAdd(&a.v_colors[id * 3 + 1], g[9]);
        atomicAdd(&a.v_colors[id * 3 + 2], g[10]);
        atomicAdd(&a.v_z[id], g[11]);
      }
    }
  }
}

template <class T>
T read_one(const T* device_ptr) {
  T v;
  GS_CUDA_CHECK(cudaMemcpy(&v, device_ptr, sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

}  // namespace

RasterForward rasterize_forward_cuda(const Device& dev, const GaussianInputs& g,
                                     const Camera& camera, const RasterSettings& s) {
  const size_t n = g.count;
  RasterForward f;
  f.width = camera.width;
  f.height = camera.height;
  f.tiles_x = (camera.width + kTileSize - 1) / kTileSize;
  f.tiles_y = (camera.height + kTileSize - 1) / kTileSize;
  const size_t pixels = size_t(f.width) * f.height, tiles = size_t(f.tiles_x) * f.tiles_y;
  f.rgb = Buffer<float>(dev, pixels * 3, kCat);
  f.alpha = Buffer<float>(dev, pixels, kCat);
  f.depth = Buffer<float>(dev, pixels, kCat);
  f.final_transmittance = Buffer<float>(dev, pixels, kCat);
  f.n_contrib = Buffer<int32_t>(dev, pixels, kCat);
  f.radii = Buffer<int32_t>(dev, n, kCat);
  f.mean2d = Buffer<float>(dev, n * 2, kCat);
  f.conic = Buffer<float>(dev, n * 3, kCat);
  f.opacity = Buffer<float>(dev, n, kCat);
  f.view_depth = Buffer<float>(dev, n, kCat);
  f.tile_ranges = Buffer<int64_t>::zeros(dev, tiles * 2, kCat);
  if (n > 0) {
    Buffer<int32_t> rects(dev, n * 4, kCat);
    Buffer<int64_t> offsets = Buffer<int64_t>::zeros(dev, n + 1, kCat);
    Buffer<unsigned long long> counters =
        Buffer<unsigned long long>::zeros(dev, kNumProjectCounters, kCat);
    parallel_for(dev, n,
                 ProjectKernel<float>{g, make_proj_camera<float>(camera), s.antialias,
                                      s.near_plane, f.mean2d.data(), f.conic.data(),
                                      f.opacity.data(), f.view_depth.data(), f.radii.data(),
                                      rects.data(), offsets.data(), counters.data()});
    {  // offsets[n] is 0, so after an exclusive scan it holds the total.
      size_t temp_bytes = 0;
      GS_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, offsets.data(), int64_t(n + 1)));
      Buffer<uint8_t> temp(dev, temp_bytes, kCat);
      GS_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, offsets.data(), int64_t(n + 1)));
    }
    const int64_t total = read_one(offsets.data() + n);
    unsigned long long host_counters[kNumProjectCounters];
    GS_CUDA_CHECK(cudaMemcpy(host_counters, counters.data(), sizeof host_counters, cudaMemcpyDeviceToHost));
    f.stats.skipped_nonfinite = size_t(host_counters[kCountNonfinite]);
    f.stats.visible = size_t(host_counters[kCountVisible]);
    if (total > 0) {
      Buffer<uint64_t> keys(dev, size_t(total), kCat);
      Buffer<int32_t> ids(dev, size_t(total), kCat);
      parallel_for(dev, n,
                   EmitInstancesKernel<float>{f.width, f.height, f.tiles_x, uint32_t(tiles),
                                              f.mean2d.data(), f.conic.data(), f.opacity.data(),
                                              f.view_depth.data(), f.radii.data(), rects.data(),
                                              offsets.data(), keys.data(), ids.data()});
      rects.reset();
      offsets.reset();
      // Sort with CUB's DoubleBuffer interface: keys + ids and one alternate of each, 24 B per
      // instance as the memory model counts them (memory_model.h bytes_per_instance). The
      // pointer-pair interface needs separate output arrays *and* temp storage holding its own
      // alternate buffers (~36 B per instance at the peak).
      Buffer<uint64_t> keys_alt(dev, size_t(total), kCat);
      Buffer<int32_t> ids_alt(dev, size_t(total), kCat);
      cub::DoubleBuffer<uint64_t> key_buf(keys.data(), keys_alt.data());
      cub::DoubleBuffer<int32_t> id_buf(ids.data(), ids_alt.data());
      // Only the bits that can be set: the depth word and the tile id (padding id = tiles).
      const int end_bit = 32 + bit_width(tiles);
      size_t temp_bytes = 0;
      GS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, key_buf, id_buf, total,
                                                    0, end_bit));
      {
        Buffer<uint8_t> temp(dev, temp_bytes, kCat);
        GS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.data(), temp_bytes, key_buf, id_buf,
                                                      total, 0, end_bit));
      }
      // The sorted data is wherever the selectors point now; free the other halves.
      Buffer<uint64_t> sorted_keys = key_buf.Current() == keys.data() ? std::move(keys)
                                                                      : std::move(keys_alt);
      f.sorted_ids = id_buf.Current() == ids.data() ? std::move(ids) : std::move(ids_alt);
      keys.reset();
      keys_alt.reset();
      ids.reset();
      ids_alt.reset();
      parallel_for(dev, size_t(total),
                   TileRangesKernel{size_t(total), uint32_t(tiles), sorted_keys.data(),
                                    f.tile_ranges.data()});
    }
  }
  f.stats.instances = f.sorted_ids.size();
  if (tiles > 0) {
    BlendForwardArgs a{f.width, f.height, f.tiles_x, f.tile_ranges.data(), f.sorted_ids.data(),
                       f.mean2d.data(), f.conic.data(), f.opacity.data(), f.view_depth.data(),
                       g.colors, {s.background[0], s.background[1], s.background[2]},
                       f.rgb.data(), f.alpha.data(), f.depth.data(),
                       f.final_transmittance.data(), f.n_contrib.data()};
    blend_forward_kernel<<<unsigned(tiles), kBlock>>>(a);
    GS_CUDA_CHECK_LAUNCH();
  }
  return f;
}

RasterGradients rasterize_backward_cuda(const Device& dev, const GaussianInputs& g,
                                        const Camera& camera, const RasterSettings& s,
                                        const RasterForward& f, const float* v_rgb,
                                        const float* v_alpha, const float* v_depth) {
  const size_t n = g.count;
  const size_t tiles = size_t(f.tiles_x) * f.tiles_y;
  RasterGradients out;
  out.v_colors = Buffer<float>::zeros(dev, n * 3, kCat);
  out.v_mean2d = Buffer<float>::zeros(dev, n * 2, kCat);
  out.absgrad = Buffer<float>::zeros(dev, n * 2, kCat);
  Buffer<float> v_conic = Buffer<float>::zeros(dev, n * 3, kCat);
  Buffer<float> v_opacity = Buffer<float>::zeros(dev, n, kCat);
  Buffer<float> v_z = Buffer<float>::zeros(dev, n, kCat);
  Buffer<float> v_bg = Buffer<float>::zeros(dev, 3, kCat);
  if (tiles > 0) {
    BlendBackwardArgs a{f.width, f.height, f.tiles_x, f.tile_ranges.data(), f.sorted_ids.data(),
                        f.mean2d.data(), f.conic.data(), f.opacity.data(), f.view_depth.data(),
                        g.colors, f.final_transmittance.data(), f.n_contrib.data(), v_rgb,
                        v_alpha, v_depth, {s.background[0], s.background[1], s.background[2]},
                        {0.5f * float(f.width), 0.5f * float(f.height)}, out.v_mean2d.data(),
                        out.absgrad.data(), v_conic.data(), v_opacity.data(),
                        out.v_colors.data(), v_z.data(), v_bg.data()};
    blend_backward_kernel<<<unsigned(tiles), kBlock>>>(a);
    GS_CUDA_CHECK_LAUNCH();
  }
  out.v_means = Buffer<float>(dev, n * 3, kCat);
  out.v_log_scales = Buffer<float>(dev, n * 3, kCat);
  out.v_quats = Buffer<float>(dev, n * 4, kCat);
  out.v_opacity_logits = Buffer<float>(dev, n, kCat);
  parallel_for(dev, n,
               ProjectBackwardKernel<float>{g, make_proj_camera<float>(camera), s.antialias,
                                            f.radii.data(), out.v_mean2d.data(), v_conic.data(),
                                            v_opacity.data(), v_z.data(), out.v_means.data(),
                                            out.v_log_scales.data(), out.v_quats.data(),
                                            out.v_opacity_logits.data()});
  GS_CUDA_CHECK(cudaMemcpy(out.v_background, v_bg.data(), sizeof out.v_background,
                           cudaMemcpyDeviceToHost));
  return out;
}

}  // namespace gs
