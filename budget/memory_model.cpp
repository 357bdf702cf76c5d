// Memory model arithmetic (see memory_model.h for what each term means).
#include "budget/memory_model.h"

#include <algorithm>
#include <cmath>

#include "deform/deformation_field.h"

namespace gs {

size_t MlpShape::weight_count() const {
  if (depth <= 0) return 0;
  // Layer 0: input → width; hidden layers width → width, except the layer after the skip,
  // which sees the input again (width + input → width); heads width → output.
  size_t n = size_t(input_dim) * width + width;
  for (int l = 1; l < depth; ++l) n += size_t(width) * width + width;
  n += size_t(input_dim) * width;  // the re-fed input's extra columns
  n += size_t(width) * output_dim + output_dim;
  return n;
}

size_t MlpShape::activation_bytes_per_gaussian() const {
  // What DeformationField holds per chunk row: the encoded input, each hidden layer's
  // post-ReLU output (the ReLU mask is read back from it), and two width-sized gradient rows
  // while back-propagating. The outputs and their gradients are per Gaussian (node_transform).
  const size_t floats = size_t(input_dim) * (input_gradient ? 2 : 1) + size_t(depth) * width +
                        (depth > 0 ? 2 * size_t(width) : 0);
  return floats * 4;
}

GaussianCost MemoryModel::gaussian_cost(NodeKind kind, int sh_degree, bool instanced) const {
  GaussianCost c;
  const size_t p = param_bytes_per_gaussian(sh_degree);
  c.params = p;
  c.grads = p;
  c.optimizer = 2 * p;
  c.densify = p_.densify_bytes_per_gaussian;
  // World-space mean 3, log-scale 3, quaternion 4, opacity 1, colour 3 and their gradients.
  c.render_set = 2 * 4 * 14;
  c.raster = p_.raster_bytes_per_gaussian;
  c.tile_instances = size_t(std::ceil(p_.instances_per_gaussian * double(p_.bytes_per_instance)));
  switch (kind) {
    case NodeKind::background:
    case NodeKind::sky: c.node_transform = 0; break;
    // Instance id, the placed (world) mean/quaternion and the stored ones' gradients, and the
    // placed opacity (absent instances are culled through it): scene/rigid_node.h.
    case NodeKind::rigid: c.node_transform = 4 + 2 * 4 * 7 + 4; break;
    // The network's output (δx, δr, δs) and its gradient, and the deformed mean/quaternion/scale
    // (their gradients reuse the rasterizer's): 30 floats, 120 B.
    // Street scenes' deformable node is a rigid node (64 B) whose field has no δs: deltas 7 and
    // their gradient, the deformed mean, log-scale and quaternion: 96 B.
    case NodeKind::deformable:
      if (instanced) {
        DeformationFieldConfig f;
        f.deform_scales = false;
        c.node_transform = 4 + 2 * 4 * 7 + 4 + DeformationField<float>::per_gaussian_bytes_for(f);
      } else {
        c.node_transform = DeformationField<float>::per_gaussian_bytes_for();
      }
      break;
    // scene/skeleton_node.h: human id 4, 4 joint indices 16, 4 weight logits with gradient and
    // Adam moments 64, the placed mean/quaternion/opacity 32 and the stored mean/quaternion
    // gradients 28, the kNN graph (an offset + ~8 symmetric neighbours) 36: 180 B.
    case NodeKind::skeleton: c.node_transform = 4 + 16 + 64 + 32 + 28 + 36; break;
  }
  return c;
}

size_t MemoryModel::pixel_buffer_bytes(int width, int height) const {
  const size_t pixels = size_t(std::max(width, 0)) * size_t(std::max(height, 0));
  const size_t tiles = size_t((std::max(width, 0) + 15) / 16) * size_t((std::max(height, 0) + 15) / 16);
  return pixels * p_.bytes_per_pixel + tiles * 8;
}

size_t MemoryModel::image_bytes(int width, int height, int images, bool on_device) const {
  const size_t pixels = size_t(std::max(width, 0)) * size_t(std::max(height, 0));
  if (on_device) return pixels * 3 * size_t(std::max(images, 0));
  return pixels * 3 * 4;  // one float RGB image staged for the current step
}

size_t MemoryModel::sky_bytes(int env_map_resolution) {
  const size_t texels = 6 * size_t(env_map_resolution) * size_t(env_map_resolution);
  return texels * 3 * 4 * 4;
}

size_t MemoryModel::exposure_bytes(int images) {
  return (size_t(std::max(images, 0)) * 3 + 1) * 12 * 4;
}

MlpShape MemoryModel::deformation_mlp(const DeformConfig& deform, bool instance_embedding) {
  MlpShape m;
  const int pos = 3 + 3 * 2 * deform.position_frequencies;
  const int time = 1 + 2 * deform.time_frequencies;
  m.input_dim = pos + time + (instance_embedding ? 16 : 0);
  m.depth = deform.depth;
  m.width = deform.width;
  if (instance_embedding) {  // scene/deformable_instance_node.h
    m.output_dim = 7;
    m.input_gradient = true;
  }
  return m;
}

int64_t MemoryModel::mlp_chunk_size(const MlpShape& mlp, size_t activation_budget_bytes) {
  const size_t per = std::max<size_t>(mlp.activation_bytes_per_gaussian(), 1);
  // Chunks are multiples of 256 Gaussians (whole GEMM tiles), at least one tile.
  const int64_t n = int64_t(activation_budget_bytes / per) / 256 * 256;
  return std::max<int64_t>(n, 256);
}

void MemoryModel::calibrate(double measured_instances_per_gaussian,
                            double measured_raster_bytes_per_gaussian) {
  constexpr double kKeep = 0.5;  // half old estimate, half new measurement
  if (std::isfinite(measured_instances_per_gaussian) && measured_instances_per_gaussian > 0)
    p_.instances_per_gaussian =
        kKeep * p_.instances_per_gaussian + (1 - kKeep) * measured_instances_per_gaussian;
  if (std::isfinite(measured_raster_bytes_per_gaussian) && measured_raster_bytes_per_gaussian > 0)
    p_.raster_bytes_per_gaussian = size_t(std::ceil(
        kKeep * double(p_.raster_bytes_per_gaussian) + (1 - kKeep) * measured_raster_bytes_per_gaussian));
}

}  // namespace gs
