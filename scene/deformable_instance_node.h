// OmniRe's deformable node for non-rigid instances without poses (cyclists, pedestrians the
// skeleton does not cover): a rigid node (Gaussians box-local, tagged by instance, moved by the
// instance's box pose of the frame) whose local Gaussians are first deformed by ONE field shared
// by all its instances, F(γ(sg(x ⊙ 1/box)), γ(t), e_k) → (δx, δq), conditioned on a learnt
// per-instance embedding e_k (deform/deformation_field.h with embedding_dim > 0 and no δs).
//
// As in drivestudio (models/nodes/deformable.py, configs/omnire.yaml):
// - Before the field switches on (step ≤ deform.warmup_steps, 3000) the node is a RigidNode.
// - x is the local mean divided by half the box height (the same on all three axes, so the
//   instance keeps its aspect ratio), t the frame's time; the δx and δq are added in the box
//   frame (mean + δx, q/|q| + δq), then the box pose moves the result to the world.
// - After switch-on the canonical means are detached (stop_optimizing_canonical_xyz): they get
//   no gradient; rotations still do, through q/|q| + δq.
// - Embeddings: 16 per instance, initialised U(0, 1) (torch.rand). Rates: MLP deform.lr
//   (presets: 1.6e-3) decayed to a tenth, embeddings 1e-3 → 1e-4, both exponential over
//   train.iterations with Adam steps counted from switch-on; positions train.lr_position_* × 2
//   instead of × the scene radius (drivestudio's scale_factor 2 replaces "scene_radius" here).
// - Gaussians that leave their box are not culled (cull_out_of_bound: false).
// Activation memory is bounded by the planned chunk, as for the Deformable-3DGS node.
#pragma once

#include <vector>

#include "deform/deformation_field.h"
#include "scene/rigid_node.h"

namespace gs {

class DeformableInstanceNode : public RigidNode {
 public:
  // setup.instances: this node's instances; setup.mlp_chunk: the planned Gaussians per chunk.
  explicit DeformableInstanceNode(const NodeSetup& setup);

  // The field deforms the Gaussians after the warm-up.
  bool deforming(int step) const { return step > cfg_.deform.warmup_steps; }

  void optimizer_step(int step, const NodeGradients& grads) override;
  size_t allocated_bytes() const override;
  NodeNetworkStatus network_status(int step) const override;
  std::vector<NodeTensor> checkpoint_tensors() override;
  nlohmann::ordered_json metrics(int step) const override;

  // The field this node builds from a config (the memory model's numbers follow from it).
  static DeformationFieldConfig field_config(const Config& config);
  static constexpr int kEmbeddingDim = 16;  // drivestudio's networks.embed_dim

  DeformationField<float>& field() { return field_; }
  const DeformationField<float>& field() const { return field_; }
  // The per-instance embeddings, K × kEmbeddingDim (host copy; tests, exports).
  std::vector<float> embeddings() const;

 protected:
  LocalGaussians local_gaussians(const FrameContext& frame) override;
  void local_backward(const FrameContext& frame, float* v_means_local,
                      float* v_quats_local) override;
  bool culls_outside_box() const override { return false; }
  GaussianLearningRates learning_rates(int step) const override;

 private:
  FieldInstances<float> field_instances(bool with_gradient);

  DeformationField<float> field_;
  // Per instance: the encoding's scale of the local mean (3 each), the embeddings with their
  // Adam moments and the gradient of the current step.
  Buffer<float> inv_box_size_, embeddings_, embeddings_m_, embeddings_v_, v_embeddings_;
  Buffer<float> inv_box_side_;  // K × 3: 1 / box side per axis (the out-of-bound loss)
};

}  // namespace gs
