// The rigid node of OmniRe (all vehicles in one node): Gaussians stored in the box frame of their
// instance (the model's tag), moved to the world by the instance's pose in the frame: world mean
// = R·μ + T, world quaternion = q_inst ⊗ q_local (deform/rigid_transform.h). A pose per
// (frame, instance), initialised from the boxes, is refined with its own Adam and drivestudio's
// rates (rotation 1e-5 → 5e-6, translation 5e-4 → 1e-4). Instances absent from a frame
// contribute nothing; frames that are not trained on (test frames) take poses interpolated
// between the nearest trained frames (slerp); Gaussians that leave their box are culled.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "scene/gaussian_node.h"

namespace gs {

// The instances of a rigid node: box sizes and per-frame box→world poses.
struct RigidInstances {
  int frames = 0;
  std::vector<int> ids;                          // K, the dataset's instance ids (for names)
  std::vector<std::array<float, 3>> box_size;    // K, length, width, height
  std::vector<uint8_t> present;                  // F × K
  std::vector<std::array<float, 16>> box_to_world;  // F × K, row-major, rigid
  std::vector<uint8_t> trained_frame;            // F: poses of these frames are refined
  size_t count() const { return box_size.size(); }
};

class RigidNode : public GaussianNode {
 public:
  explicit RigidNode(const NodeSetup& setup);

  void optimizer_step(int step, const NodeGradients& grads) override;
  DensifyResult densify(const DensifySettings& settings, std::mt19937_64& rng) override;
  size_t allocated_bytes() const override;
  std::vector<NodeTensor> checkpoint_tensors() override;
  nlohmann::ordered_json metrics(int step) const override;
  std::vector<NamedCloud> export_clouds(int step) override;

  // The pose of instance k in frame f (host copy; for tests and exports).
  void pose(int frame, size_t k, float quat[4], float translation[3]) const;
  const RigidInstances& instances() const { return instances_; }

 protected:
  GaussianInputs placed_gaussians(const FrameContext& frame) override;
  void transform_backward(const FrameContext& frame, const NodeGradients& grads) override;
  float* stored_means_grad(const NodeGradients&) override { return v_means_local_.data(); }
  float* stored_quats_grad(const NodeGradients&) override { return v_quats_local_.data(); }

  // Hooks for nodes that move their box-local Gaussians before the pose does (OmniRe's
  // deformable nodes). The box-local means and quaternions the pose moves in this frame
  // (device pointers, valid until the next place()): the stored ones here.
  struct LocalGaussians {
    const float* means = nullptr;
    const float* quats = nullptr;
  };
  virtual LocalGaussians local_gaussians(const FrameContext& frame);
  // After the pose's backward, v_means_local / v_quats_local (n × 3 / n × 4) hold ∂L/∂(the
  // Gaussians local_gaussians returned); a node that moved them maps these to ∂L/∂(stored
  // Gaussians) in place here (the optimizer then reads them). Nothing to do for stored ones.
  virtual void local_backward(const FrameContext&, float* /*v_means_local*/,
                              float* /*v_quats_local*/) {}
  // Whether densify culls Gaussians that left their box (vehicles: yes, drivestudio's
  // cull_out_of_bound; Gaussians whose tag names no instance are culled either way).
  virtual bool culls_outside_box() const { return true; }

 private:
  // Fills the pose row of an untrained frame from its trained neighbours (slerp).
  void interpolate_untrained_frame(int frame);
  // drivestudio's temporal smoothness of the translations, added to the frame's pose gradient.
  void add_temporal_smoothness(const FrameContext& frame);
  size_t row(int frame) const { return size_t(frame) * instances_.count(); }

  RigidInstances instances_;
  int frame_ = 0;  // the frame of the last place()
  LocalGaussians local_;  // what the last place() moved (the backward differentiates there)
  // Pose tables, F × K, with their Adam moments; presence flags (not trained).
  Buffer<float> pose_quats_, pose_trans_, quats_m_, quats_v_, trans_m_, trans_v_;
  Buffer<uint8_t> present_;
  // Per Gaussian (capacity rows): the placed Gaussians and the stored ones' gradients.
  Buffer<float> means_world_, quats_world_, opacity_world_;
  Buffer<float> v_means_local_, v_quats_local_;
  // Per instance: the pose gradients of the current frame.
  Buffer<float> v_pose_quats_, v_pose_trans_;
};

// Row-major rigid 4×4 → (w, x, y, z) unit quaternion and translation.
void pose_from_matrix(const std::array<float, 16>& m, float quat[4], float translation[3]);

}  // namespace gs
