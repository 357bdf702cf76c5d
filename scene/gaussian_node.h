// The plain Gaussian node: Gaussians that live in world space as they are stored (the static
// background of 3DGS). The other Gaussian nodes derive from it and override where the
// Gaussians are placed (place / backward) and what else they train (optimizer_step).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/device.h"
#include "scene/scene_node.h"

namespace gs {

// What a node is built from: the run's config (learning rates, densification), the node's own
// config, the plan's decisions for it, and the scene's scale.
struct NodeSetup {
  const Config* config = nullptr;
  const NodeConfig* node = nullptr;
  Device device;
  int sh_degree = 3;         // planned SH degree
  size_t capacity = 0;       // planned capacity (Gaussians)
  double scene_extent = 1;   // the unit of position learning rates and densification sizes
  size_t mlp_chunk = 0;      // planned Gaussians per MLP chunk (deformable nodes)
  const struct RigidInstances* instances = nullptr;  // rigid nodes: the boxes and their poses
  const struct SkeletonHumans* humans = nullptr;     // skeleton nodes: template and poses
  bool trainable = true;     // false: a node that is only rendered (gsrender): parameters only,
                             // no Adam moments, statistics or gradient buffers
};

// The learning rates of a node's Gaussian parameter groups at one step.
struct GaussianLearningRates {
  double position = 0, scale = 0, rotation = 0, opacity = 0, sh_dc = 0, sh_rest = 0;
};

class GaussianNode : public SceneNode {
 public:
  explicit GaussianNode(const NodeSetup& setup, bool tagged = false);

  const std::string& name() const override { return model_.name(); }
  NodeKind kind() const override { return node_.kind; }
  int priority() const override { return node_.priority; }
  GaussianModel& model() override { return model_; }
  const GaussianModel& model() const override { return model_; }

  GaussianInputs place(const FrameContext& frame, float* colors_out) override;
  void backward(const FrameContext& frame, const NodeGradients& grads) override;
  void accumulate_stats(const NodeGradients& grads, const Camera& camera) override;
  void optimizer_step(int step, const NodeGradients& grads) override;

  DensifyResult densify(const DensifySettings& settings, std::mt19937_64& rng) override;
  void reset_opacity() override;
  size_t prune_lowest(double fraction) override;

  size_t allocated_bytes() const override;
  NodeNetworkStatus network_status(int) const override { return {}; }
  std::vector<NodeTensor> checkpoint_tensors() override { return {}; }
  nlohmann::ordered_json metrics(int step) const override;
  std::vector<NamedCloud> export_clouds(int step) override;

 protected:
  // The rates of the step: train.* with positions scaled by the scene extent (graphdeco); nodes
  // with their own rates (drivestudio's per-node optim settings) override it.
  virtual GaussianLearningRates learning_rates(int step) const;
  // Where the Gaussians are for the frame (the stored ones here); colours are added by place().
  virtual GaussianInputs placed_gaussians(const FrameContext& frame);
  // Gradients of the placed Gaussians → stored ones (nothing to do here).
  virtual void transform_backward(const FrameContext&, const NodeGradients&) {}
  // Where the stored means' and quaternions' gradients are after backward (in place in the
  // render set's slice, unless the transform writes them elsewhere).
  virtual float* stored_means_grad(const NodeGradients& g) { return g.v_means; }
  virtual float* stored_quats_grad(const NodeGradients& g) { return g.v_quats; }

  const Config& cfg_;
  const NodeConfig node_;
  const double scene_extent_;
  GaussianModel model_;
  Buffer<float> v_sh_;              // the SH gradient of the step (capacity rows)
  const float* placed_means_ = nullptr;  // the means the colours were computed at
};

// Builds the node a NodeConfig asks for (background or deformable today). Throws ConfigError
// for kinds that cannot be trained yet.
std::unique_ptr<SceneNode> make_scene_node(const NodeSetup& setup);

}  // namespace gs
