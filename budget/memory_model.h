// The explicit memory model of DESIGN.md §4: bytes per Gaussian by SH degree and node kind,
// per-pixel and fixed costs, and the MLP's bounded activations. The planner and (later) the
// budget controller ask it what a configuration costs; the memory monitor compares its answer
// with what the accounting allocator measured, and calibrate() folds measurements back in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

namespace gs {

// fp32 parameters of one Gaussian at SH degree d: mean 3 + log-scale 3 + quaternion 4 +
// opacity 1 + SH 3(d+1)² floats. d0 56 B, d1 92 B, d2 152 B, d3 236 B.
constexpr size_t param_bytes_per_gaussian(int sh_degree) {
  return 4 * (11 + 3 * (sh_degree + 1) * (sh_degree + 1));
}
constexpr size_t kReferenceGaussianBytes = param_bytes_per_gaussian(3);  // 236 B

// Where one Gaussian's bytes go, all in bytes per Gaussian.
struct GaussianCost {
  size_t params = 0;          // P(d)
  size_t grads = 0;           // P(d)
  size_t optimizer = 0;       // Adam m and v: 2·P(d)
  size_t densify = 0;         // AbsGrad accumulator, count, max radius
  size_t render_set = 0;      // world-space copy in the render set + its gradients
  size_t raster = 0;          // per-view projected data + its gradients
  size_t tile_instances = 0;  // sort keys/values ×2 for the radix sort, × instances/Gaussian
  size_t node_transform = 0;  // node-kind state: instance ids, skin weights, deformed copies
  size_t total() const {
    return params + grads + optimizer + densify + render_set + raster + tile_instances +
           node_transform;
  }
  // All-in bytes ÷ 236 B: the "multiplier" of the seeds' VRAM ≈ N × 236 B × multiplier.
  double multiplier() const { return double(total()) / double(kReferenceGaussianBytes); }
};

// The estimates the model starts from. The per-view ones are calibrated from measurement.
struct MemoryModelParams {
  double instances_per_gaussian = 8.0;  // tile instances per Gaussian (16×16 tiles), measured
  size_t raster_bytes_per_gaussian = 80;
  size_t densify_bytes_per_gaussian = 16;
  size_t bytes_per_instance = 24;       // u64 key + u32 value, double-buffered for the sort
  size_t bytes_per_pixel = 192;         // render outputs, loss/SSIM maps and their gradients
  size_t mlp_activation_budget_bytes = size_t(256) << 20;  // cap for in-flight activations
};

// The deformation MLP's sizes, from DeformConfig.
struct MlpShape {
  int input_dim = 0;
  int depth = 0;
  int width = 0;
  int output_dim = 10;  // δx 3 + δr 4 + δs 3 (street instances: δx 3 + δq 4)
  bool input_gradient = false;  // street instances: ∂L/∂input per row (for the embeddings)
  size_t weight_count() const;
  // Weights, gradients and Adam m/v.
  size_t state_bytes() const { return weight_count() * 4 * 4; }
  // What one Gaussian costs while its chunk is in flight (forward activations kept for the
  // backward pass of that chunk, plus gradient scratch).
  size_t activation_bytes_per_gaussian() const;
};

class MemoryModel {
 public:
  explicit MemoryModel(MemoryModelParams params = {}) : p_(params) {}

  const MemoryModelParams& params() const { return p_; }
  // `instanced`: a street scene's deformable node (box-framed instances, a field without δs).
  GaussianCost gaussian_cost(NodeKind kind, int sh_degree, bool instanced = false) const;
  // Bytes per pixel of one rendered view (outputs, loss maps, gradients).
  size_t pixel_buffer_bytes(int width, int height) const;
  // Images kept on the device as 8-bit RGB, or one staged float image when streamed.
  size_t image_bytes(int width, int height, int images, bool on_device) const;
  // Environment map of a sky node: 6 faces × res² × RGB fp32 × (param, grad, m, v).
  static size_t sky_bytes(int env_map_resolution);
  // Per-image exposure of street scenes: 12 floats per image × (param, m, v) + one gradient row.
  static size_t exposure_bytes(int images);
  static MlpShape deformation_mlp(const DeformConfig& deform, bool instance_embedding);
  // Gaussians per MLP chunk so its activations stay within `activation_budget_bytes`.
  static int64_t mlp_chunk_size(const MlpShape& mlp, size_t activation_budget_bytes);

  // Folds a measurement into the estimates: the observed tile instances per Gaussian and the
  // observed per-view raster bytes per Gaussian (exponential moving average).
  void calibrate(double measured_instances_per_gaussian, double measured_raster_bytes_per_gaussian);

 private:
  MemoryModelParams p_;
};

}  // namespace gs
