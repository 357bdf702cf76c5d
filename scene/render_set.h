// The render set: every node's Gaussians for one frame, in world space, as one rasterizer input
// (DESIGN.md §1: nodes → one concatenated render set → rasterizer). Node i owns the rows
// [offset(i), offset(i) + count(i)), so its gradients are a slice of the rasterizer's.
// With a single node the set points at that node's own arrays (no copy, no extra memory);
// with several, the placed Gaussians are copied into arrays allocated once at the sum of the
// nodes' capacities (MemCategory::raster in the memory model).
#pragma once

#include <vector>

#include "core/buffer.h"
#include "rasterizer/rasterize.h"
#include "scene/scene_node.h"

namespace gs {

class RenderSet {
 public:
  RenderSet(const Device& device, std::vector<SceneNode*> nodes);

  // Places every node's Gaussians for the frame (each node computes its colours at the
  // frame's camera) and returns the rasterizer inputs of all of them.
  GaussianInputs assemble(const FrameContext& frame);

  // Node i's rows of the rasterizer's results of the last assemble().
  NodeGradients slice(size_t i, RasterGradients& grads, const RasterForward& forward) const;

  const std::vector<SceneNode*>& nodes() const { return nodes_; }
  size_t count() const { return total_; }  // Gaussians of the last assemble()
  size_t bytes() const;

 private:
  Device device_;
  std::vector<SceneNode*> nodes_;
  std::vector<size_t> offsets_;
  size_t total_ = 0;
  Buffer<float> colors_;                           // every node's colours (capacity rows)
  Buffer<float> means_, log_scales_, quats_, opacity_;  // several nodes only
};

// Renders one view of the render set: assemble, then the rasterizer forward. `inputs` receives
// what was rasterized (the backward pass needs it). Training, evaluation and gsrender all render
// through this.
RasterForward render_frame(RenderSet& set, const FrameContext& frame,
                           const RasterSettings& settings, GaussianInputs* inputs = nullptr);

}  // namespace gs
