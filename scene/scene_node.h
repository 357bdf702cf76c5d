// A scene node (DESIGN.md §1, §5): a set of Gaussians with its own parameters, Adam state,
// learning-rate schedules, densification and memory, that places its Gaussians in the world for
// the frame being rendered and takes its slice of the rasterizer's gradients back through its
// own transform. The static background and the deformable (Deformable-3DGS) node implement it
// today; rigid, deformable-instance and skeleton nodes follow the same contract.
//
// One training step, per node: place() → (render set → rasterizer → loss → backward) →
// backward() → accumulate_stats() → optimizer_step(); between steps, densify() / reset_opacity()
// under the limits of the budget controller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/buffer.h"
#include "core/camera.h"
#include "rasterizer/rasterize.h"
#include "scene/densify.h"
#include "scene/gaussian_model.h"

namespace gs {

// What a node needs to know about the view being rendered.
struct FrameContext {
  int step = 0;                // the training step (the last trained one when evaluating)
  float time = 0;              // the view's time in [0, 1] (plus training noise when training)
  int frame = 0;               // street scenes: the frame index in the selected range
  const Camera* camera = nullptr;
  int active_sh_degree = 3;    // SH bands in use (training raises it over time)
};

// A node's rows of the render set's gradients (device pointers; valid for the step).
struct NodeGradients {
  float* v_means = nullptr;           // n × 3, world space; the node adds the SH term
  float* v_log_scales = nullptr;      // n × 3
  float* v_quats = nullptr;           // n × 4
  float* v_opacity_logits = nullptr;  // n
  const float* v_colors = nullptr;    // n × 3
  const float* absgrad = nullptr;     // n × 2, AbsGrad (NDC-scaled)
  const float* v_mean2d = nullptr;    // n × 2, pixels
  const int32_t* radii = nullptr;     // n
};

// A checkpointed tensor of a node besides its Gaussians (e.g. the MLP and its Adam moments).
struct NodeTensor {
  std::string name;
  Buffer<float>* buffer = nullptr;
};

// A cloud for a PLY file: `suffix` "" is the node's own Gaussians (point_cloud.ply for a scene's
// first node, <node>.ply otherwise); others are written as <suffix>.ply / <node>_<suffix>.ply.
struct NamedCloud {
  std::string suffix;
  GaussianCloud cloud;
  std::string description;  // for the log, e.g. "deformed Gaussians at t = 0.5"
};

// The state of a node's deformation network for memory.jsonl and metrics.json.
struct NodeNetworkStatus {
  bool present = false, active = false;
  size_t chunk_rows = 0, activation_bytes = 0, state_bytes = 0;
  double per_gaussian_bytes = 0;
  size_t recomputed_chunks = 0;
};

class SceneNode {
 public:
  virtual ~SceneNode() = default;

  virtual const std::string& name() const = 0;
  virtual NodeKind kind() const = 0;
  virtual int priority() const = 0;  // the budget prunes lower priorities first

  // The node's Gaussians (parameters, Adam moments, densification statistics).
  virtual GaussianModel& model() = 0;
  virtual const GaussianModel& model() const = 0;
  size_t count() const { return model().count(); }

  // The node's Gaussians in world space for the frame, without colours; the colours at the
  // camera (from SH, at the placed means) go to `colors_out` (count() × 3, on the device).
  // The returned pointers stay valid until the next place().
  virtual GaussianInputs place(const FrameContext& frame, float* colors_out) = 0;

  // Gradients of the placed Gaussians → the node's parameters (in place in `grads`, and in the
  // node's own buffers for SH and any network), through SH and the node's transform.
  virtual void backward(const FrameContext& frame, const NodeGradients& grads) = 0;

  // Densification statistics of this view (graphdeco's window: the caller decides when).
  virtual void accumulate_stats(const NodeGradients& grads, const Camera& camera) = 0;

  // One Adam step on every parameter group of the node, with its learning-rate schedules.
  virtual void optimizer_step(int step, const NodeGradients& grads) = 0;

  // Clone / split / prune under `settings` (its capacity_limit and floor set by the caller).
  virtual DensifyResult densify(const DensifySettings& settings, std::mt19937_64& rng) = 0;
  virtual void reset_opacity() = 0;
  // Out-of-memory recovery: removes the given fraction of the least opaque Gaussians.
  virtual size_t prune_lowest(double fraction) = 0;

  // Device bytes the node holds for the whole run (at capacity), and its network's status.
  virtual size_t allocated_bytes() const = 0;
  virtual NodeNetworkStatus network_status(int step) const = 0;

  // Tensors checkpointed besides the Gaussians, and node-specific metrics.json entries.
  virtual std::vector<NodeTensor> checkpoint_tensors() = 0;
  virtual nlohmann::ordered_json metrics(int step) const = 0;

  // The clouds to write as PLY files at `step`: the node's stored Gaussians (suffix ""), and
  // for moving nodes the Gaussians placed at a chosen time (suffix names it).
  virtual std::vector<NamedCloud> export_clouds(int step) = 0;
};

}  // namespace gs
