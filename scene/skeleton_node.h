// OmniRe's skinned humans (one node for all of them): Gaussians on a body template's surface in
// its canonical space, each bound to 4 joints of SMPL's 24-joint tree, posed per frame by linear
// blend skinning (deform/skinning.h) with the joint transforms of the human's pose in that frame
// (deform/skeleton.h). Learned: the Gaussians (SH degree 1 in the presets, as OmniRe), a
// correction of their skinning weights (softmax logits starting at the template's weights), and
// per (frame, human) the global orientation and translation (drivestudio's instance rates 1e-5 →
// 5e-6 and 5e-4 → 1e-4) and 23 joint rotations (5e-5 → 1e-5). Never densified or reset
// (drivestudio's SMPL node is not); opacity starts at 0.99. Regularisers: kNN smoothness of the
// Gaussians' rotations, scales, opacities and colours (SH) in canonical space (1e-3 each, 3
// neighbours), temporal smoothness of the translations (0.01). Humans absent
// from a frame contribute nothing; frames not trained on take poses interpolated between the
// nearest trained ones.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "deform/skeleton.h"
#include "scene/gaussian_node.h"

namespace gs {

// The humans of a skeleton node: the template they share and their per-frame poses.
struct SkeletonHumans {
  int frames = 0;
  BodyTemplate body;
  std::vector<int> ids;                 // H, the dataset's instance ids (for names)
  std::vector<uint8_t> present;         // F × H: a pose exists for the frame
  std::vector<float> poses;             // F × H × kPoseFloats (our world)
  std::vector<uint8_t> trained_frame;   // F: poses of these frames are refined
  std::vector<float> init_colors;       // H × V × 3 in [0, 1], or empty (grey)
  size_t count() const { return ids.size(); }
};

class SkeletonNode : public GaussianNode {
 public:
  explicit SkeletonNode(const NodeSetup& setup);

  void accumulate_stats(const NodeGradients&, const Camera&) override {}
  void optimizer_step(int step, const NodeGradients& grads) override;
  DensifyResult densify(const DensifySettings& settings, std::mt19937_64& rng) override;
  void reset_opacity() override {}
  size_t prune_lowest(double) override { return 0; }
  size_t allocated_bytes() const override;
  std::vector<NodeTensor> checkpoint_tensors() override;
  nlohmann::ordered_json metrics(int step) const override;
  std::vector<NamedCloud> export_clouds(int step) override;

  // The pose row of human h in frame f (host; kPoseFloats floats).
  const float* pose(int frame, size_t h) const { return poses_.data() + row(frame, h); }
  // The regularisers' last values (for tests and logs).
  double last_smoothness_loss() const { return last_smoothness_; }

 protected:
  GaussianLearningRates learning_rates(int step) const override;
  GaussianInputs placed_gaussians(const FrameContext& frame) override;
  void transform_backward(const FrameContext& frame, const NodeGradients& grads) override;
  float* stored_means_grad(const NodeGradients&) override { return v_means_local_.data(); }
  float* stored_quats_grad(const NodeGradients&) override { return v_quats_local_.data(); }

 private:
  size_t row(int frame, size_t h) const {
    return (size_t(frame) * humans_.count() + h) * size_t(kPoseFloats);
  }
  void load_template_gaussians(const NodeSetup& setup);
  void build_neighbours();
  void interpolate_untrained_frame(int frame);
  // Uploads the joint transforms of `frame` for every human.
  void upload_joints(int frame);
  void add_smoothness_gradients(const NodeGradients& grads);
  void add_temporal_gradients(int frame);

  SkeletonHumans humans_;
  int frame_ = 0;
  // Poses and their Adam moments live on the host: a few KB that the kinematic chain (host,
  // double) reads every step.
  Buffer<float> poses_, poses_m_, poses_v_, v_poses_;
  // Per Gaussian: the binding (joints fixed, weight logits learned) and their optimiser state.
  Buffer<int32_t> skin_joints_;
  Buffer<float> weight_logits_, logits_m_, logits_v_, v_logits_;
  // Per human and joint of the current frame: transforms, rotations, presence, gradients.
  Buffer<float> joint_transforms_, joint_quats_, v_joints_;
  Buffer<uint8_t> frame_present_;
  // Per Gaussian: the placed Gaussians and the stored ones' gradients.
  Buffer<float> means_world_, quats_world_, opacity_world_, v_means_local_, v_quats_local_;
  // kNN graph in canonical space (symmetric, CSR) for the smoothness regulariser.
  Buffer<int32_t> neighbour_offsets_, neighbours_;
  size_t edges_ = 0;
  double last_smoothness_ = 0;
};

}  // namespace gs
