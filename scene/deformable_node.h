// The Deformable-3DGS node: canonical Gaussians moved by a deformation field
// F(γ(x), γ(t)) → (δx, δr, δs) that switches on after the static warm-up (deform.warmup_steps).
// The field's MLP has its own Adam state and learning-rate schedule; its activation memory is
// bounded by the planned chunk.
#pragma once

#include <memory>

#include "deform/deformation_field.h"
#include "scene/gaussian_node.h"

namespace gs {

// The deformation field the config's deform section asks for (street instances add their
// embedding and drop δs on top of it), and the plan's MLP chunk, checked to be set.
DeformationFieldConfig deformation_field_config(const Config& config);
size_t planned_mlp_chunk(size_t chunk);

class DeformableNode : public GaussianNode {
 public:
  explicit DeformableNode(const NodeSetup& setup);

  // The field deforms the Gaussians after the warm-up.
  bool deforming(int step) const { return step > cfg_.deform.warmup_steps; }

  void optimizer_step(int step, const NodeGradients& grads) override;
  size_t allocated_bytes() const override;
  NodeNetworkStatus network_status(int step) const override;
  std::vector<NodeTensor> checkpoint_tensors() override;
  nlohmann::ordered_json metrics(int step) const override;
  std::vector<NamedCloud> export_clouds(int step) override;

 protected:
  GaussianInputs placed_gaussians(const FrameContext& frame) override;
  void transform_backward(const FrameContext& frame, const NodeGradients& grads) override;

 private:
  DeformationField<float> field_;
};

}  // namespace gs
