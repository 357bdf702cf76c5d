// The differentiable tile rasterizer's host API (DESIGN.md §3): Gaussians + camera → RGB, alpha
// and expected-depth images, and the backward pass to every Gaussian input. CPU and CUDA share
// the per-element math (projection_math.h, blend_math.h); the host API is free of CUDA types.
// Every buffer it allocates is accounted in MemCategory::raster, so it may throw BudgetExceeded
// (or another OutOfMemoryError) when a view does not fit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/buffer.h"
#include "core/device.h"
#include "core/camera.h"

namespace gs {

constexpr int kTileSize = 16;  // tiles are kTileSize × kTileSize pixels

// Gaussian parameters, pre-activation, as stored (DESIGN.md §3); pointers live on the device the
// rasterizer runs on. Colours come precomputed, e.g. from sh_to_color_forward (sh.h).
template <class T>
struct GaussianInputsT {
  size_t count = 0;
  const T* means = nullptr;           // n × 3, world
  const T* log_scales = nullptr;      // n × 3
  const T* quats = nullptr;           // n × 4, (w, x, y, z), unnormalised
  const T* opacity_logits = nullptr;  // n
  const T* colors = nullptr;          // n × 3
};
using GaussianInputs = GaussianInputsT<float>;

struct RasterSettings {
  float background[3] = {0, 0, 0};
  bool antialias = false;   // opacity × sqrt(det Σ2D / det(Σ2D + 0.3 I)) (Mip-Splatting style)
  float near_plane = 0.2f;  // Gaussians whose centre has camera z below this are culled
};

struct RasterStats {
  size_t visible = 0;            // Gaussians that touch at least one tile (radius > 0)
  size_t instances = 0;          // (tile, Gaussian) pairs that were sorted and blended
  size_t skipped_nonfinite = 0;  // Gaussians with a NaN/Inf input, skipped
};

// Forward results, plus what the backward needs. Move-only (it owns Buffers on the device).
template <class T>
struct RasterForwardT {
  int width = 0, height = 0, tiles_x = 0, tiles_y = 0;
  Buffer<T> rgb;            // H × W × 3, row-major, background composited
  Buffer<T> alpha;          // H × W, 1 − final transmittance
  Buffer<T> depth;          // H × W, Σ zᵢ αᵢ Tᵢ (not divided by alpha)
  Buffer<int32_t> radii;    // n, screen radius in pixels, 0 = not visible
  RasterStats stats;

  // Per Gaussian (valid where radii > 0).
  Buffer<T> mean2d;         // n × 2, pixels
  Buffer<T> conic;          // n × 3, (a, b, c) of Σ2D⁻¹ = [[a, b], [b, c]]
  Buffer<T> opacity;        // n, sigmoid(logit) × antialias compensation
  Buffer<T> view_depth;     // n, camera-space z
  // Per instance and per tile.
  Buffer<int32_t> sorted_ids;   // instances, Gaussian ids, per tile front to back
  Buffer<int64_t> tile_ranges;  // tiles × 2, [begin, end) into sorted_ids, row-major tiles
  // Per pixel.
  Buffer<T> final_transmittance;  // H × W
  Buffer<int32_t> n_contrib;      // H × W, instances of the pixel's tile walked up to and
                                  // including its last contributor

  // Bytes held by all of the buffers above.
  size_t bytes() const {
    return rgb.bytes() + alpha.bytes() + depth.bytes() + radii.bytes() + mean2d.bytes() +
           conic.bytes() + opacity.bytes() + view_depth.bytes() + sorted_ids.bytes() +
           tile_ranges.bytes() + final_transmittance.bytes() + n_contrib.bytes();
  }
};
using RasterForward = RasterForwardT<float>;

// Gradients of the loss with respect to every Gaussian input, plus densification statistics.
template <class T>
struct RasterGradientsT {
  Buffer<T> v_means;           // n × 3
  Buffer<T> v_log_scales;      // n × 3
  Buffer<T> v_quats;           // n × 4 (w.r.t. the unnormalised quaternion)
  Buffer<T> v_opacity_logits;  // n
  Buffer<T> v_colors;          // n × 3
  // ∂L/∂mean2d in pixels (the view-space 2D mean gradient); multiply by (W/2, H/2) for the
  // NDC units of graphdeco's densification threshold.
  Buffer<T> v_mean2d;          // n × 2
  // AbsGrad: Σ over pixels of |∂L_pixel/∂mean2d|, componentwise, already scaled by (W/2, H/2).
  Buffer<T> absgrad;           // n × 2
  T v_background[3] = {0, 0, 0};
};
using RasterGradients = RasterGradientsT<float>;

// Renders one view. Gaussians with non-finite inputs, centre z < near_plane, a degenerate 2D
// covariance, opacity below 1/255 or no tile on screen are culled (radius 0).
RasterForward rasterize_forward(const Device& device, const GaussianInputs& gaussians,
                                const Camera& camera, const RasterSettings& settings);

// Backward of rasterize_forward (same gaussians, camera and settings). v_rgb (H×W×3), v_alpha
// (H×W) and v_depth (H×W) live on `device`; any of them may be null (treated as zero).
RasterGradients rasterize_backward(const Device& device, const GaussianInputs& gaussians,
                                   const Camera& camera, const RasterSettings& settings,
                                   const RasterForward& forward, const float* v_rgb,
                                   const float* v_alpha, const float* v_depth);

}  // namespace gs
